package examples

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// Report is what a batch test found; its JSON form is the -json output.
type Report struct {
	// Rules and RulesVersion are the rules tested; Examples the file.
	Rules        string `json:"rules"`
	RulesVersion string `json:"rules_version"`
	Examples     string `json:"examples"`
	// Total examples, how many went where expected (Passed) and not
	// (Failed); Accuracy is Passed/Total.
	Total    int     `json:"total"`
	Passed   int     `json:"passed"`
	Failed   int     `json:"failed"`
	Accuracy float64 `json:"accuracy"`
	// Teams has one line per label that was expected or predicted: the
	// rules' teams in file order, then NoiseLabel.
	Teams []TeamStats `json:"teams"`
	// Confusion counts examples by expected label (rows) and actual label
	// (columns), both in the order of Labels.
	Confusion Confusion `json:"confusion"`
	// Failures are the examples that did not go where expected, in file
	// order.
	Failures []Failure `json:"failures"`
}

// TeamStats are one label's numbers. Precision, Recall and F1 are nil
// when undefined (nothing predicted, or nothing expected).
type TeamStats struct {
	Team      string   `json:"team"`
	Expected  int      `json:"expected"`
	Predicted int      `json:"predicted"`
	Correct   int      `json:"correct"`
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
	F1        *float64 `json:"f1"`
}

// Confusion is the confusion matrix: Counts[expected][actual].
type Confusion struct {
	Labels []string `json:"labels"`
	Counts [][]int  `json:"counts"`
}

// Failure is one example that went elsewhere, and why.
type Failure struct {
	Line     int    `json:"line"`
	ID       string `json:"id,omitempty"`
	Channel  string `json:"channel"`
	Text     string `json:"text"` // subject and text, cut to 100 characters
	Expected string `json:"expected"`
	Got      string `json:"got"`
	// Why says how it was decided; Routes is the chain of routes that
	// matched; Words the words that matched, as "route: term ← words".
	Why    string   `json:"why"`
	Routes []string `json:"routes"`
	Words  []string `json:"words"`
}

// Pass reports whether every example went where expected, or, when
// minAccuracy > 0, whether the accuracy is at least minAccuracy.
func (r *Report) Pass(minAccuracy float64) bool {
	if minAccuracy > 0 {
		return r.Accuracy >= minAccuracy
	}
	return r.Failed == 0
}

func newReport(r *rules.Rules, set *Set, outcomes []*Outcome) *Report {
	rep := &Report{Rules: r.File(), RulesVersion: r.Version(), Examples: set.File, Total: len(set.Examples), Failures: []Failure{}}
	// Labels: the rules' teams in file order, then noise; only those used.
	used := map[string]bool{}
	for i, ex := range set.Examples {
		used[ex.Expected()] = true
		used[outcomes[i].Label] = true
	}
	for _, t := range append(Teams(r), NoiseLabel) {
		if used[t] {
			rep.Confusion.Labels = append(rep.Confusion.Labels, t)
		}
	}
	n := len(rep.Confusion.Labels)
	rep.Confusion.Counts = make([][]int, n)
	for i := range rep.Confusion.Counts {
		rep.Confusion.Counts[i] = make([]int, n)
	}
	at := func(l string) int { return slices.Index(rep.Confusion.Labels, l) }
	for i := range set.Examples {
		ex, o := &set.Examples[i], outcomes[i]
		want, got := ex.Expected(), o.Label
		rep.Confusion.Counts[at(want)][at(got)]++
		if want == got {
			rep.Passed++
			continue
		}
		routes, words, note := why(o, ex)
		rep.Failures = append(rep.Failures, Failure{
			Line: ex.Line, ID: ex.ID, Channel: ex.Channel, Text: message.Excerpt(ex.Subject, ex.Text, 100),
			Expected: want, Got: got, Why: note, Routes: nonNil(routes), Words: nonNil(words),
		})
	}
	rep.Failed = rep.Total - rep.Passed
	if rep.Total > 0 {
		rep.Accuracy = float64(rep.Passed) / float64(rep.Total)
	}
	for k, l := range rep.Confusion.Labels {
		ts := TeamStats{Team: l, Correct: rep.Confusion.Counts[k][k]}
		for j := range n {
			ts.Expected += rep.Confusion.Counts[k][j]
			ts.Predicted += rep.Confusion.Counts[j][k]
		}
		ts.Precision = ratio(ts.Correct, ts.Predicted)
		ts.Recall = ratio(ts.Correct, ts.Expected)
		if ts.Precision != nil && ts.Recall != nil && *ts.Precision+*ts.Recall > 0 {
			f := 2 * *ts.Precision * *ts.Recall / (*ts.Precision + *ts.Recall)
			ts.F1 = &f
		} else if ts.Precision != nil && ts.Recall != nil {
			zero := 0.0
			ts.F1 = &zero
		}
		rep.Teams = append(rep.Teams, ts)
	}
	return rep
}

func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := float64(a) / float64(b)
	return &v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteText prints the report for people: the summary, the per-team
// table, the confusion matrix and every failure.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "rules     %s (version %s)\nexamples  %s\n\n", r.Rules, r.RulesVersion, r.Examples)
	fmt.Fprintf(w, "%d examples: %d passed, %d failed (accuracy %.1f%%)\n\n", r.Total, r.Passed, r.Failed, 100*r.Accuracy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "team\texpected\tgot\tcorrect\tprecision\trecall\tF1\t\n")
	for _, t := range r.Teams {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", t.Team, t.Expected, t.Predicted, t.Correct, pct(t.Precision), pct(t.Recall), pct(t.F1))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nconfusion (rows: expected, columns: got)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\t%s\t\n", strings.Join(r.Confusion.Labels, "\t"))
	for i, l := range r.Confusion.Labels {
		cells := make([]string, len(r.Confusion.Counts[i]))
		for j, c := range r.Confusion.Counts[i] {
			cells[j] = fmt.Sprint(c)
			if c == 0 {
				cells[j] = "."
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", l, strings.Join(cells, "\t"))
	}
	tw.Flush()
	if len(r.Failures) == 0 {
		return
	}
	fmt.Fprintf(w, "\nfailures (%d)\n", len(r.Failures))
	for _, f := range r.Failures {
		id := ""
		if f.ID != "" {
			id = " " + f.ID
		}
		fmt.Fprintf(w, "  %s:%d%s (%s)  %q\n", r.Examples, f.Line, id, f.Channel, f.Text)
		fmt.Fprintf(w, "      expected %s, got %s: %s\n", f.Expected, f.Got, f.Why)
		if len(f.Routes) > 0 {
			fmt.Fprintf(w, "      routes   %s\n", strings.Join(f.Routes, " → "))
		}
		for _, wd := range f.Words {
			fmt.Fprintf(w, "      matched  %s\n", wd)
		}
	}
}

func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100**v)
}
