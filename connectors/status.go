package connectors

import (
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/secret"
)

// State is a connector's lifecycle state.
type State string

// Connector states shown in GET /v1/connectors.
const (
	StateStarting     State = "starting"
	StateRunning      State = "running"
	StateBackingOff   State = "backing_off"
	StateUnauthorized State = "unauthorized"
	// StatePaused: the backbone refused to store what the connector
	// publishes (store or ingest stream full); Status.Paused says which.
	// It resumes from its checkpoint once there is room; not a failure.
	StatePaused  State = "paused"
	StateStopped State = "stopped"
)

// AllStates lists every state, for metrics.
func AllStates() []State {
	return []State{StateStarting, StateRunning, StateBackingOff, StateUnauthorized, StatePaused, StateStopped}
}

// Status is a snapshot of one connector.
type Status struct {
	Name          string     `json:"name"`
	State         State      `json:"state"`
	Paused        string     `json:"paused,omitempty"` // why, while State is paused: "store full" or "stream full"
	LastSuccess   *time.Time `json:"last_success,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorAt   *time.Time `json:"last_error_at,omitempty"`
	Ingested      uint64     `json:"items_ingested"`
	Duplicates    uint64     `json:"duplicates"`
	Restarts      uint64     `json:"restarts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	Checkpoint    string     `json:"checkpoint,omitempty"`
	CheckpointAt  *time.Time `json:"checkpoint_at,omitempty"`
	// FirstAttemptAt is when the connector finished its first attempt: a
	// poll that succeeded or failed, or (the intake) started serving.
	// Until then the daemon is not ready.
	FirstAttemptAt *time.Time `json:"first_attempt_at,omitempty"`
}

// status is the live, locked version of Status.
type status struct {
	mu sync.Mutex
	s  Status
	// red scrubs every secret from an error before it is stored: a status
	// is served by GET /v1/connectors.
	red      *secret.Redactor
	onChange func(name string, from, to State)
	onIngest func(channel string, duplicate bool)
	onRefuse func(channel, why string)
}

func (st *status) snapshot() Status {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s
}

func (st *status) setState(s State) {
	st.mu.Lock()
	from := st.s.State
	st.s.State = s
	if s != StateBackingOff && s != StateUnauthorized && s != StatePaused {
		st.s.NextAttemptAt = nil
	}
	if s != StatePaused {
		st.s.Paused = ""
	}
	st.mu.Unlock()
	if from != s && st.onChange != nil {
		st.onChange(st.s.Name, from, s)
	}
}

// attempted records the end of the first attempt; st.mu must be held.
func (st *status) attempted(now time.Time) {
	if st.s.FirstAttemptAt == nil {
		t := now.UTC()
		st.s.FirstAttemptAt = &t
	}
}

// recovered ends the unauthorized state once something worked: the
// credentials were accepted.
func (st *status) recovered() { st.leave(StateUnauthorized) }

// leave sets the state to running when it is from: something worked that
// from (paused, unauthorized) said would not.
func (st *status) leave(from State) {
	st.mu.Lock()
	in := st.s.State == from
	st.mu.Unlock()
	if in {
		st.setState(StateRunning)
	}
}

func (st *status) published(channel string, dup bool, now time.Time) {
	st.mu.Lock()
	if dup {
		st.s.Duplicates++
	} else {
		st.s.Ingested++
	}
	t := now.UTC()
	st.s.LastSuccess = &t
	st.attempted(now)
	st.mu.Unlock()
	st.recovered()
	if st.onIngest != nil {
		st.onIngest(channel, dup)
	}
}

func (st *status) checkpointed(cp string, now time.Time) {
	st.mu.Lock()
	if len(cp) > 512 {
		cp = cp[:512] + "…"
	}
	t := now.UTC()
	st.s.Checkpoint, st.s.CheckpointAt = cp, &t
	st.attempted(now)
	st.mu.Unlock()
	st.recovered()
}

func (st *status) succeeded(now time.Time) {
	st.mu.Lock()
	t := now.UTC()
	st.s.LastSuccess = &t
	st.attempted(now)
	st.mu.Unlock()
	st.recovered()
}

// serving records that a connector waiting for requests is up.
func (st *status) serving(now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.attempted(now)
}

func (st *status) failed(err error, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := now.UTC()
	st.s.LastError, st.s.LastErrorAt = st.red.Scrub(err.Error()), &t
	st.attempted(now)
}
