package facebook

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"
)

// usage is what the Graph API's usage headers said in the latest answer.
// X-App-Usage (and X-Page-Usage) report platform rate limits;
// X-Business-Use-Case-Usage reports the business-use-case limits that apply
// to requests made with a page access token.
type usage struct {
	// App is the highest percentage in X-App-Usage / X-Page-Usage.
	App int
	// BUC is the highest percentage in X-Business-Use-Case-Usage.
	BUC int
	// Regain is the largest estimated_time_to_regain_access.
	Regain time.Duration
	// seen reports that any usage header was readable.
	seen bool
}

// platformUsage is the body of X-App-Usage and X-Page-Usage. Numbers are read
// as floats so that a fractional value does not void the whole header.
type platformUsage struct {
	CallCount    float64 `json:"call_count"`
	TotalTime    float64 `json:"total_time"`
	TotalCPUTime float64 `json:"total_cputime"`
}

// bucUsage is one entry of X-Business-Use-Case-Usage.
type bucUsage struct {
	Type                        string  `json:"type"`
	CallCount                   float64 `json:"call_count"`
	TotalTime                   float64 `json:"total_time"`
	TotalCPUTime                float64 `json:"total_cputime"`
	EstimatedTimeToRegainAccess float64 `json:"estimated_time_to_regain_access"` // minutes
}

// maxRegainMinutes caps estimated_time_to_regain_access, so that a garbled
// header cannot stop a page for days.
const maxRegainMinutes = 24 * 60

// parseUsage reads the usage headers. Malformed headers are ignored: they
// only inform pacing, and an error still says when a limit is hit.
func parseUsage(h http.Header) usage {
	var u usage
	for _, name := range []string{"X-App-Usage", "X-Page-Usage"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		var p platformUsage
		if json.Unmarshal([]byte(v), &p) == nil {
			u.seen = true
			u.App = max(u.App, pct(p.CallCount), pct(p.TotalTime), pct(p.TotalCPUTime))
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var m map[string][]bucUsage
		if json.Unmarshal([]byte(v), &m) == nil {
			u.seen = true
			for _, entries := range m {
				for _, e := range entries {
					u.BUC = max(u.BUC, pct(e.CallCount), pct(e.TotalTime), pct(e.TotalCPUTime))
					minutes := math.Ceil(min(max(e.EstimatedTimeToRegainAccess, 0), maxRegainMinutes))
					if r := time.Duration(minutes) * time.Minute; r > u.Regain {
						u.Regain = r
					}
				}
			}
		}
	}
	return u
}

// pct turns a header number into a whole percentage in [0, 1000].
func pct(f float64) int {
	if math.IsNaN(f) {
		return 0
	}
	return int(math.Ceil(min(max(f, 0), 1000)))
}

// Pct is the highest usage percentage of any limit.
func (u usage) Pct() int { return max(u.App, u.BUC) }

// Usage thresholds: from slowAt the page polls less often and spaces its
// requests; at 100% (or with a time to regain access) it stops until access
// is back.
const (
	slowAt     = 75
	slowerAt   = 90
	blockedAt  = 100
	slowPause  = time.Second
	slowerWait = 5 * time.Second
)

// factor is how many times longer than configured the poll interval becomes.
func (u usage) factor() int {
	switch p := u.Pct(); {
	case p >= slowerAt:
		return 4
	case p >= slowAt:
		return 2
	}
	return 1
}

// pause is the wait before the next request of the same poll.
func (u usage) pause() time.Duration {
	switch p := u.Pct(); {
	case p >= slowerAt:
		return slowerWait
	case p >= slowAt:
		return slowPause
	}
	return 0
}

// blocked reports whether the headers say requests fail until Regain passed.
func (u usage) blocked() bool { return u.Regain > 0 || u.Pct() >= blockedAt }

// rateLimitWait is how long to stop after a rate-limit error or a usage at
// 100%: the time the headers estimate, else one minute doubling with each
// consecutive hit, up to an hour.
func rateLimitWait(u usage, streak int) time.Duration {
	if u.Regain > 0 {
		return u.Regain
	}
	d := time.Minute
	for i := 1; i < streak && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// pacer is a page's pacing: the latest usage headers and a rate-limit
// pause. It belongs to the Page and outlives restarts of its Run, so that a
// poller restarted by the supervisor neither forgets a limit it was told to
// wait out nor the slowdown the usage headers ask for. One goroutine uses
// it at a time (the page's Run; the supervisor runs them one after another).
type pacer struct {
	usage        usage
	blockedUntil time.Time
	// why is the reason of the current pause.
	why string
	// streak counts consecutive rate-limit hits (the pause doubles).
	streak int
}

// block pauses the page's requests until until.
func (pc *pacer) block(until time.Time, why string) {
	pc.blockedUntil, pc.why = until, why
}

// check returns a rate-limit error while the page's requests are paused:
// the poll ends, the supervisor shows the page backing off with this error,
// and no request reaches the Graph API before the pause ends.
func (pc *pacer) check(now time.Time, what string) error {
	if !now.Before(pc.blockedUntil) {
		return nil
	}
	return &graphError{class: classRateLimit, what: what,
		msg: fmt.Sprintf("rate limited: requests paused until %s (%s left): %s",
			pc.blockedUntil.UTC().Format(time.RFC3339), pc.blockedUntil.Sub(now).Round(time.Second), pc.why)}
}
