package corrections

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report counts corrections per route and per team (switchboard rules
// report): which routes (or the model, or the context) decided items that
// operators then moved, and which teams lost and gained items, the worst
// first. Its JSON form is rules report -json.
type Report struct {
	// Since is where the report starts (zero: everything kept).
	Since time.Time `json:"since"`
	// Corrections is how many corrections it counts; Items how many
	// items (an item rerouted twice counts once, by its latest).
	Corrections int `json:"corrections"`
	Items       int `json:"items"`
	// Routes has one line per route (or ByModel, or context) that had
	// decided corrected items, most corrected first.
	Routes []RouteCount `json:"routes"`
	// Teams has one line per team that lost or gained items, most lost
	// first.
	Teams []TeamCount `json:"teams"`
}

// RouteCount is how many items one route decided that were corrected,
// and where they went instead.
type RouteCount struct {
	// Route is a route id, ByModel or a context in parentheses.
	Route string `json:"route"`
	// Away is how many items it decided were rerouted; To counts them by
	// the team they were rerouted to.
	Away int            `json:"away"`
	To   map[string]int `json:"to"`
}

// TeamCount is how many items were corrected away from and to one team.
type TeamCount struct {
	Team string `json:"team"`
	// Away counts items that had gone to the team (as owner or copy) and
	// were rerouted elsewhere; To items rerouted to it as their new owner.
	Away int `json:"away"`
	To   int `json:"to"`
}

// NewReport counts cs (from List, oldest first): each item by its latest
// correction, whose From, DecidedBy and To are what the operator saw and
// chose.
func NewReport(cs []Correction, since time.Time) *Report {
	latest := map[string]Correction{}
	for _, c := range cs {
		if old, ok := latest[c.ID]; !ok || !c.At.Before(old.At) {
			latest[c.ID] = c
		}
	}
	rep := &Report{Since: since, Corrections: len(cs), Items: len(latest), Routes: []RouteCount{}, Teams: []TeamCount{}}
	routes := map[string]*RouteCount{}
	teams := map[string]*TeamCount{}
	team := func(name string) *TeamCount {
		t := teams[name]
		if t == nil {
			t = &TeamCount{Team: name}
			teams[name] = t
		}
		return t
	}
	for _, c := range latest {
		by := c.DecidedBy
		if by == "" {
			by = "(unknown)"
		}
		rc := routes[by]
		if rc == nil {
			rc = &RouteCount{Route: by, To: map[string]int{}}
			routes[by] = rc
		}
		rc.Away++
		rc.To[c.To]++
		team(c.To).To++
		for _, f := range c.From {
			if f != c.To {
				team(f).Away++
			}
		}
	}
	for _, rc := range routes {
		rep.Routes = append(rep.Routes, *rc)
	}
	slices.SortFunc(rep.Routes, func(a, b RouteCount) int {
		return cmp.Or(cmp.Compare(b.Away, a.Away), strings.Compare(a.Route, b.Route))
	})
	for _, t := range teams {
		rep.Teams = append(rep.Teams, *t)
	}
	slices.SortFunc(rep.Teams, func(a, b TeamCount) int {
		return cmp.Or(cmp.Compare(b.Away, a.Away), cmp.Compare(b.To, a.To), strings.Compare(a.Team, b.Team))
	})
	return rep
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	window := "everything kept"
	if !r.Since.IsZero() {
		window = "since " + r.Since.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "corrections %s: %d items rerouted (%d corrections)\n", window, r.Items, r.Corrections)
	if r.Items == 0 {
		return
	}
	fmt.Fprintln(w, "\nper route (what had decided the items operators moved), worst first")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "route\tcorrected\trerouted to\t\n")
	for _, rc := range r.Routes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", rc.Route, rc.Away, countsText(rc.To))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nper team")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "team\tcorrected away\tcorrected to\t\n")
	for _, t := range r.Teams {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", t.Team, t.Away, t.To)
	}
	tw.Flush()
}

// countsText formats team counts, most first: "logistics 3, sales 1".
func countsText(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	slices.SortFunc(list, func(a, b kv) int { return cmp.Or(cmp.Compare(b.v, a.v), strings.Compare(a.k, b.k)) })
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = fmt.Sprintf("%s %d", e.k, e.v)
	}
	return strings.Join(parts, ", ")
}
