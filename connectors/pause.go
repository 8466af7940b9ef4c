package connectors

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// fullError is what a Publisher's error implements when the backbone
// refused to store for lack of room (bus.FullError does): Full says what
// is full.
type fullError interface {
	error
	Full() string
}

// fullReason returns what is full when err is such a refusal, else "".
func fullReason(err error) string {
	var f fullError
	if errors.As(err, &f) {
		return f.Full()
	}
	return ""
}

// pause waits after a run that ended because the backbone had no room. That
// is not the connector's failure: no error is counted and no restart, the
// state is "paused" with the reason, and the connector resumes from its
// checkpoint after the backoff delay for attempt. It returns false when ctx
// ended meanwhile.
func (s *Supervisor) pause(ctx context.Context, log *zap.Logger, st *status, why string, err error, attempt int) bool {
	delay := s.backoff.Delay(attempt)
	next := s.now().Add(delay).UTC()
	st.pause(why, err, s.now(), &next)
	log.Warn("connector paused: the backbone refuses new messages; it resumes from its checkpoint when there is room",
		zap.String("full", why), zap.Error(err), zap.Duration("retry_in", delay))
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		st.setState(StateStopped)
		return false
	case <-t.C:
		return true
	}
}

// pause records that publishing was refused because why is full; next is
// when the supervisor tries again (nil while the connector keeps running).
func (st *status) pause(why string, err error, now time.Time, next *time.Time) {
	st.setState(StatePaused)
	st.mu.Lock()
	defer st.mu.Unlock()
	t := now.UTC()
	st.s.Paused = why
	st.s.LastError, st.s.LastErrorAt = "paused: "+why+": "+err.Error(), &t
	st.attempted(now)
	if next != nil {
		st.s.NextAttemptAt = next
	}
}

// resume ends a pause after a publish was stored.
func (st *status) resume() { st.leave(StatePaused) }

// refused tells the observer about a refused publish.
func (st *status) refused(channel, why string) {
	if st.onRefuse != nil {
		st.onRefuse(channel, why)
	}
}
