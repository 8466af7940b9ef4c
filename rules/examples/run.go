package examples

import (
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/conversation"
	"github.com/switchboard/switchboard/rules"
)

// Outcome is where one example went and why.
type Outcome struct {
	// Label is where it went: its first (owning) team, or NoiseLabel.
	Label string
	// Decision and Trace are the rules' decision on the example's own text
	// and why (Rules.Explain).
	Decision rules.Decision
	Trace    rules.Trace
	// FollowedParent says the example is a reply whose own text decided
	// nothing, so it went where the example it answers went.
	FollowedParent bool
}

// Decide routes one example's envelope with the rules, knowing where the
// example it answers went (parent is nil for an example that answers
// nothing). Run calls it for every example, parents before their replies.
// The daemon's router plugs in its own conversation logic through it, so
// that the batch test reflects what the daemon does; OwnTextOrParent is
// the rule it follows.
type Decide func(r *rules.Rules, env *message.Envelope, parent *Outcome) Outcome

// OwnTextOrParent is the default Decide, the router's rule for replies
// (router/conversation.Resolve, the same function the daemon uses): an
// item whose own text decides (Decision.Decided: a route that names a
// team, or noise) is routed by its own text; a reply whose text decides
// nothing — or that only the model decided, or whose route says sticky:
// true — takes the team its parent went to. A noise parent is followed by
// nobody: a customer's "kiitos" under a spam comment is not spam.
func OwnTextOrParent(r *rules.Rules, env *message.Envelope, parent *Outcome) Outcome {
	d, tr := r.Explain(env)
	o := Outcome{Label: label(d), Decision: d, Trace: tr}
	if d.Noise {
		return o
	}
	in := conversation.Input{Env: env, Decided: d.Decided, Teams: d.Teams, Weak: d.ModelDecided,
		Deferred: !d.Decided && d.Route != ""}
	if parent != nil && parent.Label != NoiseLabel {
		in.Parent = &conversation.Prior{ID: env.ParentID, Teams: []string{parent.Label}}
	}
	res := conversation.Resolve(in)
	if len(res.Teams) > 0 {
		o.Label = res.Teams[0]
	}
	o.FollowedParent = res.Reason == conversation.ReasonParent
	return o
}

// label is where a decision sends an item, for comparing with the
// expected label.
func label(d rules.Decision) string {
	if d.Noise || len(d.Teams) == 0 {
		return NoiseLabel
	}
	return d.Teams[0]
}

// Run decides every example of set with r through decide (nil:
// OwnTextOrParent), each parent before its replies, and reports the
// results.
func Run(r *rules.Rules, set *Set, decide Decide) *Report {
	if decide == nil {
		decide = OwnTextOrParent
	}
	return newReport(r, set, run(r, set, decide))
}

// run decides every example of set with r through decide, each parent
// before its replies, and returns the outcomes in file order.
func run(r *rules.Rules, set *Set, decide Decide) []*Outcome {
	index := map[string]int{}
	for i, ex := range set.Examples {
		if ex.ID != "" {
			index[ex.ID] = i
		}
	}
	outcomes := make([]*Outcome, len(set.Examples))
	// Each example is decided once, after the chain of examples it
	// answers; Parse has ruled out cycles and missing parents. The chain is
	// walked without recursion, so a long thread costs no stack.
	var chain []int
	for i := range set.Examples {
		chain = chain[:0]
		for j := i; outcomes[j] == nil; {
			chain = append(chain, j)
			p, ok := index[set.Examples[j].ReplyTo]
			if set.Examples[j].ReplyTo == "" || !ok {
				break
			}
			j = p
		}
		for k := len(chain) - 1; k >= 0; k-- {
			j := chain[k]
			var parent *Outcome
			if p, ok := index[set.Examples[j].ReplyTo]; ok && set.Examples[j].ReplyTo != "" {
				parent = outcomes[p]
			}
			o := decide(r, set.Envelope(j), parent)
			outcomes[j] = &o
		}
	}
	return outcomes
}

// why sums up an outcome for a failure report: the winning route chain and
// the words that matched.
func why(o *Outcome, ex *Example) (chain []string, words []string, note string) {
	chain = o.Decision.Matched
	for _, rt := range o.Trace.Routes {
		if !rt.Matched {
			continue
		}
		for _, c := range rt.Conditions {
			for _, h := range c.Hits {
				if c.Cond == "text.none" {
					continue
				}
				words = append(words, fmt.Sprintf("%s: %s ← %q", rt.ID, h.Term, strings.Join(h.Words, " ")))
			}
		}
	}
	switch {
	case o.FollowedParent:
		note = fmt.Sprintf("its own text decided nothing; it followed %s (the example it answers)", ex.ReplyTo)
	case o.Decision.Noise:
		note = fmt.Sprintf("noise route %s matched", o.Decision.Route)
	case o.Decision.ModelDecided:
		note = "no route named a team: the model chose it (" + o.Decision.Model.String() + ")"
	case !o.Decision.Decided && o.Decision.Model.Len() > 0:
		note = "no route named a team and the model did not decide (" + o.Decision.Model.String() + "): default_team"
	case !o.Decision.Decided:
		note = "no route named a team: default_team"
	default:
		note = "decided by route " + o.Decision.Route
	}
	return chain, words, note
}
