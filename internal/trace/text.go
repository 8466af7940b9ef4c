package trace

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/switchboard/switchboard/router/decisions"
)

// WriteText prints t for people: what the item is, where it went and why,
// how each target answered, and its history. Text from outside (the
// message, names, errors) is printed with control characters replaced, so
// a message cannot drive the terminal.
func WriteText(w io.Writer, t *Trace) error {
	ew := &errWriter{w: w}
	rec := t.Decision
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("id", Clean(t.ID))
	row("channel", Clean(rec.Channel+" ("+rec.Kind+")"))
	row("author", Clean(rec.Author))
	row("created", stamp(rec.CreatedAt))
	row("received", stamp(rec.ReceivedAt))
	row("routed", stamp(rec.RoutedAt))
	row("outcome", Outcome(rec))
	row("reason", Reason(rec))
	row("rules", "version "+Clean(orDash(rec.RulesVersion)))
	for i, m := range rec.Routes {
		k := ""
		if i == 0 {
			k = "matched"
		}
		v := Clean(m.ID)
		if len(m.Words) > 0 {
			v += " (" + Clean(strings.Join(m.Words, ", ")) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, v)
	}
	row("model", Scores(rec.Model))
	row("lang", Clean(rec.Lang))
	row("topics", Clean(strings.Join(rec.Topics, ", ")))
	row("priority", Clean(rec.Priority))
	row("tags", Clean(strings.Join(rec.Tags, ", ")))
	if rec.ThreadID != "" || rec.ParentID != "" {
		v := "thread " + Clean(orDash(rec.ThreadID))
		if rec.ParentID != "" {
			v += ", answers " + Clean(rec.ParentID)
		}
		row("thread", v)
	}
	if rec.Followed != "" {
		row("followed", Clean(rec.Followed))
	}
	row("conversation", Clean(rec.Conversation))
	if c := rec.Customer; c != nil {
		v := Clean(c.ID)
		if c.Strength != "" || len(c.Channels) > 0 {
			v += " (" + Clean(strings.TrimPrefix(strings.Join(append([]string{c.Strength}, c.Channels...), ", "), ", ")) + ")"
		}
		row("customer", v)
	}
	if c := rec.Case; c != nil {
		v := Clean(c.ID) + ", team " + Clean(c.Team)
		if c.FollowUp {
			v += ", follow-up"
		}
		if c.Related != nil {
			v += "; related open case " + Clean(c.Related.ID) + " (" + Clean(c.Related.Team) + ")"
		}
		row("case", v)
	}
	tw.Flush()

	fmt.Fprintln(ew)
	switch {
	case t.Envelope != nil:
		if t.Envelope.Subject != "" {
			fmt.Fprintf(ew, "subject: %s\n", Clean(t.Envelope.Subject))
		}
		for _, line := range strings.Split(strings.TrimRight(t.Envelope.Text, "\n"), "\n") {
			fmt.Fprintf(ew, "  | %s\n", Clean(line))
		}
		if t.Envelope.URL != "" {
			fmt.Fprintf(ew, "url: %s\n", Clean(t.Envelope.URL))
		}
	case t.EnvelopeError != "":
		fmt.Fprintf(ew, "(envelope not shown: %s)\n  | %s\n", Clean(t.EnvelopeError), Clean(rec.Snippet))
	}

	if len(rec.Delivery) > 0 {
		fmt.Fprintln(ew, "\ndelivery")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TEAM\tTARGET\tRESULT\tATTEMPTS\tAT\tERROR")
		for _, d := range rec.Delivery {
			res := "failed"
			if d.OK {
				res = "accepted"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", Clean(d.Team), Clean(d.Target), res, d.Attempts, stamp(d.At), Clean(orDash(d.Error)))
		}
		tw.Flush()
	}
	if len(rec.History) > 0 {
		fmt.Fprintln(ew, "\nhistory")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, e := range rec.History {
			v := Clean(strings.Join(e.Teams, ", "))
			if e.By != "" {
				v += " by " + Clean(e.By)
			}
			if e.Detail != "" {
				v += ": " + Clean(e.Detail)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", stamp(e.At), Clean(e.Kind), strings.TrimSpace(v))
		}
		tw.Flush()
	}
	return ew.err
}

// WriteList prints a search result page as a table, newest first, and
// how to get the next page.
func WriteList(w io.Writer, p *decisions.Page) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED\tID\tOUTCOME\tTEAMS\tAUTHOR\tTEXT")
	for _, r := range p.Records {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", stamp(r.ReceivedAt), Clean(r.ID), Clean(orDash(r.Outcome)),
			Clean(orDash(strings.Join(r.Teams, ","))), Clean(Cut(orDash(r.Author), 24)), Clean(Cut(r.Snippet, 60)))
	}
	tw.Flush()
	return ew.err
}

// Outcome says in a few words where the item went.
func Outcome(r *decisions.Record) string {
	switch r.Outcome {
	case decisions.OutcomeNoise:
		return "noise: kept, delivered to no team"
	case decisions.OutcomeDead:
		return "dead letter (teams " + orDash(strings.Join(r.Teams, ", ")) + ")"
	case "":
		return "-"
	}
	return Clean(r.Outcome + " to " + orDash(strings.Join(r.Teams, ", ")))
}

// Reason says which input decided the teams, for people.
func Reason(r *decisions.Record) string {
	switch r.Reason {
	case decisions.ReasonText:
		return "its own text (a route or the model)"
	case decisions.ReasonParent:
		return "its text decided nothing: it follows the item it answers"
	case decisions.ReasonConversation:
		return "its text decided nothing: it follows its conversation"
	case decisions.ReasonCase:
		return "its text decided nothing: it joins its customer's open case"
	case decisions.ReasonDefault:
		return "nothing decided: the default team"
	case decisions.ReasonReplay:
		return "an operator replayed its dead letter"
	case decisions.ReasonReroute:
		return "an operator rerouted it"
	case decisions.ReasonRetry:
		return "a retry, routed as the first attempt"
	}
	return Clean(r.Reason)
}

// Scores formats model scores: "billing 0.93, sales 0.04".
func Scores(s []decisions.Score) string {
	parts := make([]string, 0, len(s))
	for _, x := range s {
		parts = append(parts, Clean(x.Team)+" "+strconv.FormatFloat(x.P, 'f', 2, 64))
	}
	return strings.Join(parts, ", ")
}

// Clean replaces control characters (escape sequences included) with
// U+FFFD, keeping tabs, so that outside text is safe on a terminal.
func Clean(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return r != '\t' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029')
}

// Cut shortens s to n runes with an ellipsis.
func Cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}
