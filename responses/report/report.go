// Package report computes the service report a customer-service lead reads
// on Monday morning, per team and channel, from the decision records of the
// items received in a period: items routed, response rate, median and 90th
// percentile first-response time, items past their target, items open now
// and the oldest of them. See docs/responses.md.
package report

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

// Options select what a report covers.
type Options struct {
	// Since and Now bound when the items were received.
	Since, Now time.Time
	// Team and Channel, when set, keep only that team's or channel's items.
	Team, Channel string
	// Oldest is how many of the oldest open items to list (default 10).
	Oldest int
}

// Report is the service report.
type Report struct {
	// Since and Now bound when the items counted were received.
	Since time.Time `json:"since"`
	Now   time.Time `json:"now"`
	// Rows are per team and channel, by team then channel.
	Rows []Row `json:"rows"`
	// Teams are per team, all channels together.
	Teams []Row `json:"teams"`
	// Oldest are the oldest items open now, oldest first.
	Oldest []Open `json:"oldest_open"`
}

// Row is one team's numbers, for one channel or (Channel "") all.
type Row struct {
	// Team and Channel say whose numbers these are.
	Team    string `json:"team"`
	Channel string `json:"channel,omitempty"`
	// Routed counts items routed to the team.
	Routed int `json:"routed"`
	// Responded counts items that got a first response (responded or
	// resolved); NoResponseNeeded those a team marked as needing none.
	Responded        int `json:"responded"`
	NoResponseNeeded int `json:"no_response_needed"`
	// ResponseRate is Responded / (Routed - NoResponseNeeded); 0 when no
	// item needed a response.
	ResponseRate float64 `json:"response_rate"`
	// MedianSeconds and P90Seconds are the nearest-rank 50th and 90th
	// percentile of the first-response time (from the customer's message)
	// of the responded items; 0 when none.
	MedianSeconds float64 `json:"median_first_response_seconds"`
	P90Seconds    float64 `json:"p90_first_response_seconds"`
	// PastTarget counts items answered after their target, or unanswered
	// and past it now.
	PastTarget int `json:"past_target"`
	// OpenNow counts items still without a response.
	OpenNow int `json:"open_now"`
}

// rowAcc is a row being counted, with the delays its percentiles come from.
type rowAcc struct {
	Row
	delays []float64
}

// Open is an item without a response.
type Open struct {
	// ID, Teams, Channel, Kind, Author and Snippet are the item's, from
	// its decision record; AgeSeconds is how long it has waited at the
	// report's Now.
	ID         string    `json:"id"`
	Teams      []string  `json:"teams"`
	Channel    string    `json:"channel"`
	Kind       string    `json:"kind"`
	Author     string    `json:"author,omitempty"`
	Snippet    string    `json:"snippet"`
	CreatedAt  time.Time `json:"created_at"`
	AgeSeconds float64   `json:"age_seconds"`
	// Overdue says it is past its target.
	Overdue bool `json:"overdue"`
}

// Accumulator builds a report record by record.
type Accumulator struct {
	o      Options
	policy *sla.Policy
	rows   map[[2]string]*rowAcc
	teams  map[string]*rowAcc
	open   []Open
	seen   map[string]bool
}

// NewAccumulator starts a report; policy (nil: no targets) says what
// "past target" means.
func NewAccumulator(policy *sla.Policy, o Options) *Accumulator {
	if o.Oldest <= 0 {
		o.Oldest = 10
	}
	return &Accumulator{o: o, policy: policy, rows: map[[2]string]*rowAcc{}, teams: map[string]*rowAcc{}, seen: map[string]bool{}}
}

// Add counts one decision record (records outside the options are
// skipped; a record seen twice counts once).
func (a *Accumulator) Add(rec *decisions.Record) {
	if rec.Outcome == decisions.OutcomeNoise || len(rec.Teams) == 0 || a.seen[rec.ID] {
		return
	}
	if rec.ReceivedAt.Before(a.o.Since) || rec.ReceivedAt.After(a.o.Now) || (a.o.Channel != "" && rec.Channel != a.o.Channel) {
		return
	}
	if a.o.Team != "" && !slices.Contains(rec.Teams, a.o.Team) {
		return
	}
	a.seen[rec.ID] = true
	resp := rec.Response
	if resp != nil && resp.At.After(a.o.Now) {
		resp = nil // answered after the report's end
	}
	overdueAny := false
	for _, team := range rec.Teams {
		if a.o.Team != "" && team != a.o.Team {
			continue
		}
		overdue := a.pastTarget(rec, team, resp)
		overdueAny = overdueAny || overdue
		for _, r := range []*rowAcc{a.row(team, rec.Channel), a.teamRow(team)} {
			r.Routed++
			switch {
			case resp == nil:
				r.OpenNow++
			case resp.Status == message.StatusNoResponseNeeded:
				r.NoResponseNeeded++
			default:
				r.Responded++
				r.delays = append(r.delays, resp.DelaySeconds)
			}
			if overdue {
				r.PastTarget++
			}
		}
	}
	if resp == nil {
		a.open = append(a.open, Open{ID: rec.ID, Teams: rec.Teams, Channel: rec.Channel, Kind: rec.Kind, Author: rec.Author,
			Snippet: rec.Snippet, CreatedAt: rec.CreatedAt, AgeSeconds: a.o.Now.Sub(rec.CreatedAt).Seconds(), Overdue: overdueAny})
		slices.SortStableFunc(a.open, func(x, y Open) int { return x.CreatedAt.Compare(y.CreatedAt) })
		if len(a.open) > a.o.Oldest {
			a.open = a.open[:a.o.Oldest]
		}
	}
}

// pastTarget reports whether team's item was answered after its target or
// is unanswered past it now.
func (a *Accumulator) pastTarget(rec *decisions.Record, team string, resp *decisions.Response) bool {
	if a.policy == nil || (resp != nil && resp.Status == message.StatusNoResponseNeeded) {
		return false
	}
	t, ok := a.policy.Target(sla.Item{Team: team, Channel: rec.Channel, Kind: rec.Kind, Priority: rec.Priority, Created: rec.CreatedAt})
	if !ok || len(t.Due) == 0 {
		return false
	}
	at := a.o.Now
	if resp != nil {
		at = resp.At
	}
	return at.After(t.Due[0])
}

func (a *Accumulator) row(team, channel string) *rowAcc {
	k := [2]string{team, channel}
	if r := a.rows[k]; r != nil {
		return r
	}
	r := &rowAcc{Row: Row{Team: team, Channel: channel}}
	a.rows[k] = r
	return r
}

func (a *Accumulator) teamRow(team string) *rowAcc {
	if r := a.teams[team]; r != nil {
		return r
	}
	r := &rowAcc{Row: Row{Team: team}}
	a.teams[team] = r
	return r
}

// Report finishes the report.
func (a *Accumulator) Report() *Report {
	rep := &Report{Since: a.o.Since, Now: a.o.Now, Rows: []Row{}, Teams: []Row{}, Oldest: slices.Clone(a.open)}
	if rep.Oldest == nil {
		rep.Oldest = []Open{}
	}
	for _, r := range a.rows {
		rep.Rows = append(rep.Rows, r.finish())
	}
	for _, r := range a.teams {
		rep.Teams = append(rep.Teams, r.finish())
	}
	order := func(x, y Row) int { return cmp.Or(cmp.Compare(x.Team, y.Team), cmp.Compare(x.Channel, y.Channel)) }
	slices.SortFunc(rep.Rows, order)
	slices.SortFunc(rep.Teams, order)
	return rep
}

func (a *rowAcc) finish() Row {
	r := a.Row
	if need := r.Routed - r.NoResponseNeeded; need > 0 {
		r.ResponseRate = float64(r.Responded) / float64(need)
	}
	d := slices.Sorted(slices.Values(a.delays))
	r.MedianSeconds, r.P90Seconds = Percentile(d, 50), Percentile(d, 90)
	return r
}

// Percentile returns the nearest-rank p-th percentile of sorted values:
// the smallest value that at least p% of them do not exceed (0 for none).
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// clockMargin is how far the daemon's clock (received_at) may be ahead of
// the NATS server's (the records' stream timestamps).
const clockMargin = time.Hour

// Build reads the records of items received since o.Since from store and
// returns the report.
func Build(ctx context.Context, store *decisions.Store, policy *sla.Policy, o Options) (*Report, error) {
	a := NewAccumulator(policy, o)
	// A record changes after it is received, never before: records last
	// changed before Since are of items received before it. The margin
	// allows for the daemon's and the NATS server's clocks to differ.
	if err := store.Scan(ctx, o.Since.Add(-clockMargin), func(r *decisions.Record) error { a.Add(r); return nil }); err != nil {
		return nil, fmt.Errorf("building the report: %w", err)
	}
	return a.Report(), nil
}

// WriteText prints the report as the tables people read.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Items received %s – %s\n\n", r.Since.Format("2006-01-02 15:04"), r.Now.Format("2006-01-02 15:04 MST"))
	fmt.Fprintln(tw, "TEAM\tCHANNEL\tROUTED\tRESPONSE RATE\tMEDIAN\tP90\tPAST TARGET\tOPEN NOW\tNO RESPONSE NEEDED\t")
	for _, row := range r.Teams {
		for _, cr := range r.Rows {
			if cr.Team == row.Team {
				writeRow(tw, cr)
			}
		}
		row.Channel = "all"
		writeRow(tw, row)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Oldest) == 0 {
		_, err := fmt.Fprintln(w, "\nNo item is waiting for a response.")
		return err
	}
	fmt.Fprintln(w, "\nOldest open items:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGE\tTEAM\tCHANNEL\tID\tFROM\tTEXT")
	for _, o := range r.Oldest {
		age := FormatDuration(o.AgeSeconds)
		if o.Overdue {
			age += " !"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", age, strings.Join(o.Teams, ","), o.Channel+"/"+o.Kind, o.ID, dash(o.Author), cut(o.Snippet, 60))
	}
	return tw.Flush()
}

func writeRow(w io.Writer, r Row) {
	rate, median, p90 := "-", "-", "-"
	if r.Routed > r.NoResponseNeeded {
		rate = fmt.Sprintf("%.0f%%", 100*r.ResponseRate)
	}
	if r.Responded > 0 {
		median, p90 = FormatDuration(r.MedianSeconds), FormatDuration(r.P90Seconds)
	}
	fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%d\t\n", r.Team, r.Channel, r.Routed, rate, median, p90, r.PastTarget, r.OpenNow, r.NoResponseNeeded)
}

// FormatDuration renders seconds for people: 45s, 20m, 3h05m, 2d04h.
func FormatDuration(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
