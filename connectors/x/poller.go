package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
)

// Why a poller waits; tests tell the waits apart.
const (
	waitPoll      = "poll"       // the pause between two polls
	waitRateLimit = "rate_limit" // until an X rate-limit window resets
	waitRetry     = "retry"      // before retrying a 5xx or network failure
)

// Rate-limit waits are kept within these bounds: at least a second, and a
// 429 without a usable reset header waits rateLimitFallback.
const (
	minRateLimitWait  = time.Second
	maxRateLimitWait  = 24 * time.Hour
	rateLimitFallback = 15 * time.Minute
)

// maxEmptyPages is how many pages without any item in a row one poll
// follows. X filters items after paging, so a page can be empty while
// meta.next_token leads on; a long run of them is a broken answer, and the
// poll then ends with the rest left for the next one.
const maxEmptyPages = 20

// emptyRun counts the pages without items in a row of one poll.
type emptyRun struct {
	n     int
	token string
}

// next records a page with n items that named nextToken as the page after
// it, and returns an error when the run of empty pages must end the poll.
func (r *emptyRun) next(name string, n int, nextToken string) error {
	if n > 0 {
		r.n, r.token = 0, nextToken
		return nil
	}
	r.n++
	repeated := nextToken != "" && nextToken == r.token
	r.token = nextToken
	if repeated || r.n >= maxEmptyPages {
		return handled(fmt.Errorf("%s: X sent %d page(s) in a row without items whose next_token leads on (repeating itself: %t); "+
			"the rest is read next poll", name, r.n, repeated))
	}
	return nil
}

// poller is what the post and DM streams share: the client, the read
// budget, waiting and reporting.
type poller struct {
	// name is the connector name ("x.mentions"); stream is the short name
	// used for budget and metrics ("mentions").
	name, stream string
	endpoint     string
	interval     time.Duration
	// pageSize is the max_results asked for when the budget allows.
	pageSize int
	// keep is how much of the day's read budget this stream leaves to the
	// others: the replies stream keeps one full poll of every customer
	// stream, so reading responses never delays reading customers.
	keep    int
	client  *Client
	budget  *Budget
	filter  filter
	log     *zap.Logger
	metrics *Metrics
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration, why string) error
}

// Name implements connectors.Connector.
func (p *poller) Name() string { return p.name }

// budgetState is the read budget as saved in a stream's checkpoint (and so
// shown in its status): the UTC day, this stream's reads that day (restored
// at start, so a restart does not reset the day's budget), and, for people
// reading the status, the limits and what was left over all X streams when
// the checkpoint was saved.
type budgetState struct {
	Day       string `json:"day,omitempty"`
	Reads     int    `json:"reads"`
	LeftToday int    `json:"left_today"`
	PerDay    int    `json:"per_day"`
	PerPoll   int    `json:"per_poll"`
}

// budgetState returns the budget as it stands, for the checkpoint.
func (p *poller) budgetState() budgetState {
	day, reads := p.budget.Used(p.stream)
	return budgetState{Day: day, Reads: reads, LeftToday: p.budget.Remaining(), PerDay: p.budget.PerDay(), PerPoll: p.budget.PerPoll()}
}

// handledError marks an error the stream reports in its status and survives:
// the poll ends, the checkpoint stays, the next poll tries again.
type handledError struct{ err error }

func (e *handledError) Error() string { return e.err.Error() }
func (e *handledError) Unwrap() error { return e.err }

func handled(err error) error { return &handledError{err} }

// loop runs poll every interval until ctx ends. Handled errors are logged
// and shown in the status; any other error is returned to the supervisor.
func (p *poller) loop(ctx context.Context, h *connectors.Handle, poll func(context.Context, *connectors.Handle) error) error {
	lastHandled := ""
	for {
		err := poll(ctx, h)
		if ctx.Err() != nil {
			return nil
		}
		var he *handledError
		switch {
		case err == nil:
			h.Succeeded()
			lastHandled = ""
		case errors.As(err, &he):
			h.Failed(err)
			if msg := err.Error(); msg != lastHandled { // once, not every poll
				p.log.Warn("X poll did not complete; the next poll tries again", zap.Error(err))
				lastHandled = msg
			}
		default:
			return err
		}
		if err := p.sleep(ctx, p.interval, waitPoll); err != nil {
			return nil
		}
	}
}

// reserve reserves reads for the next page: at least minPage (the
// endpoint's smallest max_results). ok is false when the budget is spent;
// err then says why when it is the day's budget.
func (p *poller) reserve(pollUsed, minPage int) (Reservation, bool, error) {
	r := p.budget.ReserveKeeping(p.stream, pollUsed, p.pageSize, p.keep)
	if r.N >= minPage {
		return r, true, nil
	}
	p.budget.Settle(p.stream, r, 0)
	left := p.budget.Remaining()
	reset := p.budget.ResetsAt().Format(time.RFC3339)
	switch {
	case left < minPage:
		return r, false, handled(fmt.Errorf("daily X read budget of %d reads used up (%d left, a page needs %d); %s resumes at %s",
			p.budget.PerDay(), left, minPage, p.name, reset))
	case left-p.keep < minPage && p.budget.PerDay() < p.keep+minPage:
		p.metrics.pollSkipped(p.stream, "budget")
		return r, false, handled(fmt.Errorf("%s skipped: read_budget.per_day (%d) leaves no room for it beside the %d reads kept for "+
			"the customer streams (per_poll for each); raise per_day to at least %d, or set connectors.x.responses: false",
			p.name, p.budget.PerDay(), p.keep, p.keep+minPage))
	case left-p.keep < minPage:
		p.metrics.pollSkipped(p.stream, "budget")
		return r, false, handled(fmt.Errorf("%s skipped: %d reads left today and the %d kept for the customer streams come first; "+
			"%s resumes at %s where it stopped", p.name, left, p.keep, p.name, reset))
	}
	p.log.Debug("per-poll read budget reached; the rest is read next poll", zap.Int("per_poll", p.budget.PerPoll()), zap.Int("read", pollUsed))
	return r, false, nil
}

// call runs fn, first waiting out a rate-limit window the last response
// announced as spent, and on a 429 waiting for the reset and trying again.
func (p *poller) call(ctx context.Context, h *connectors.Handle, fn func() error) error {
	for {
		if d, reset := p.client.RateLimitWait(p.endpoint); d > 0 {
			if err := p.waitReset(ctx, h, d, reset, "x-rate-limit-remaining is 0"); err != nil {
				return err
			}
		}
		err := fn()
		var rl *RateLimitError
		if !errors.As(err, &rl) {
			return err
		}
		d := rateLimitFallback
		if !rl.Reset.IsZero() {
			d = rl.Reset.Sub(p.now()) + time.Second
		}
		if err := p.waitReset(ctx, h, d, rl.Reset, "HTTP 429: "+rl.Problem.String()); err != nil {
			return err
		}
	}
}

func (p *poller) waitReset(ctx context.Context, h *connectors.Handle, d time.Duration, reset time.Time, why string) error {
	d = min(max(d, minRateLimitWait), maxRateLimitWait)
	until := p.now().Add(d).UTC()
	p.metrics.rateLimitWait(p.endpoint)
	p.log.Warn("X rate limit reached; waiting for the window to reset",
		zap.String("endpoint", p.endpoint), zap.String("reason", why), zap.Time("until", until), zap.Duration("wait", d))
	h.Failed(fmt.Errorf("rate limited by X on %s (%s); waiting until %s", p.endpoint, why, until.Format(time.RFC3339)))
	return p.sleep(ctx, d, waitRateLimit)
}

// report logs what a page held besides the items: partial errors and
// malformed or skipped items.
func (p *poller) report(h *connectors.Handle, problems []Problem, includesBad int, c converted) {
	for _, pr := range problems {
		p.log.Warn("X returned a partial error beside the data; the items themselves are ingested",
			zap.String("endpoint", p.endpoint), zap.String("problem", pr.String()),
			zap.String("resource_type", pr.ResourceType), zap.String("resource_id", pr.ResourceID), zap.String("parameter", pr.Parameter))
	}
	for reason, n := range c.skipped {
		p.metrics.skip(p.stream, reason, n)
	}
	for _, b := range c.bad {
		p.log.Error("skipping a malformed X item", zap.String("endpoint", p.endpoint), zap.String("item", b))
	}
	if len(c.bad) > 0 {
		h.Failed(fmt.Errorf("%s: skipped %d malformed item(s) from %s, first: %s", p.name, len(c.bad), p.endpoint, c.bad[0]))
	}
	if includesBad > 0 {
		p.log.Warn("X sent malformed expanded objects (includes); they were dropped",
			zap.String("endpoint", p.endpoint), zap.Int("count", includesBad))
	}
}

// malformed turns a decode failure into a handled error.
func (p *poller) malformed(err error) error {
	p.log.Error("X sent a malformed response; the checkpoint stays and the next poll tries again",
		zap.String("endpoint", p.endpoint), zap.Error(err))
	return handled(fmt.Errorf("%s: %w", p.name, err))
}

// commit publishes a page's envelopes, then its responses, and only then
// saves the checkpoint st, when there is something to publish or st moved
// since prev. On failure st goes back to prev, the state the store still
// has, so the page is read again.
func commit[C comparable](ctx context.Context, h *connectors.Handle, p *poller, st *C, prev C, c converted) error {
	if len(c.envs) == 0 && len(c.responses) == 0 && *st == prev {
		return nil
	}
	cp, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("%s: encoding checkpoint: %w", p.name, err)
	}
	if _, err = h.Publish(ctx, c.envs...); err == nil {
		err = h.PublishResponses(ctx, c.responses...)
	}
	if err == nil {
		if h.TracksResponses() {
			p.metrics.response(p.stream, len(c.responses))
		}
		err = h.SaveCheckpoint(ctx, cp)
	}
	if err != nil {
		*st = prev
		return fmt.Errorf("%s: %w", p.name, err)
	}
	return nil
}

// readCheckpoint decodes the saved checkpoint raw (nil: none) into st and
// checks the X ids that ids returns from it ("" is fine: not reached yet).
// It reports false for an unreadable checkpoint, after logging it and
// reporting on h that the stream restarted from its newest items; the
// caller then starts afresh. idKind names the stream's ids in the error
// ("post", "event"), items its items ("posts", "DMs").
func (p *poller) readCheckpoint(h *connectors.Handle, raw []byte, st any, ids func() []string, idKind, items string) bool {
	if raw == nil {
		return true
	}
	err := json.Unmarshal(raw, st)
	if err == nil && validCheckpointIDs(ids()...) {
		return true
	}
	if err == nil {
		err = errors.New("invalid " + idKind + " ids")
	}
	p.log.Error("the saved checkpoint is unreadable; starting from the newest "+items, zap.Error(err))
	h.Failed(fmt.Errorf("%s: checkpoint unreadable (%v); restarted from the newest %s", p.name, err, items))
	return false
}

func validCheckpointIDs(ids ...string) bool {
	for _, id := range ids {
		if id != "" && !validID(id) {
			return false
		}
	}
	return true
}
