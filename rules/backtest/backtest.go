// Package backtest replays messages stored in the ingest stream through
// two rule sets, the live one and a candidate, and reports how many would
// change team, as a from → to table with examples. It publishes nothing.
// `switchboard rules backtest` and the console's backtest form use it.
package backtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// Classifier decides where an envelope goes; *rules.Rules is one.
type Classifier interface {
	Classify(env *message.Envelope) rules.Decision
	Version() string
}

// modelVersioner is a Classifier with a trained model (*rules.Rules).
type modelVersioner interface {
	ModelVersion() string
}

// modelVersion is c's model version, "" without a model.
func modelVersion(c Classifier) string {
	if m, ok := c.(modelVersioner); ok {
		return m.ModelVersion()
	}
	return ""
}

// Options selects the messages replayed.
type Options struct {
	// Stream is the ingest stream; Filter its subjects ("<prefix>.ingest.>").
	Stream, Filter string
	// Since replays the messages ingested this long ago and later; Last,
	// when above 0, the last Last messages instead.
	Since time.Duration
	Last  int
	// Examples is how many examples each from → to change keeps.
	Examples int
	// Idle ends the replay when the stream delivers nothing for this long
	// (default 2s).
	Idle time.Duration
	// Skipped hears why each unreadable message was skipped (nil: nobody).
	Skipped func(why string)
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Report is what a backtest found (the -json output of rules backtest).
type Report struct {
	// Stream is the ingest stream read; Since or Last the window.
	Stream string `json:"stream"`
	Since  string `json:"since,omitempty"`
	Last   int    `json:"last,omitempty"`
	// The two rule sets compared (the caller names the files).
	LiveRules   string `json:"live_rules"`
	LiveVersion string `json:"live_version"`
	NewRules    string `json:"new_rules"`
	NewVersion  string `json:"new_version"`
	// LiveModel and NewModel are the versions of the rules' models (what
	// they learned from), "" for rules without one; LiveByModel and
	// NewByModel count the messages whose team the model chose.
	LiveModel   string `json:"live_model_version,omitempty"`
	NewModel    string `json:"new_model_version,omitempty"`
	LiveByModel int    `json:"live_by_model"`
	NewByModel  int    `json:"new_by_model"`
	// Messages were classified: Unchanged went to the same teams with the
	// same topics, priority and tags, Other to the same teams otherwise
	// labelled, Changed to other teams (or into or out of noise).
	// Unreadable messages were skipped.
	Messages    int          `json:"messages"`
	Unchanged   int          `json:"unchanged"`
	Changed     int          `json:"changed_team"`
	Other       int          `json:"other_changes"`
	Unreadable  int          `json:"unreadable"`
	Transitions []Transition `json:"transitions"`
}

// Transition is one from → to change of destination.
type Transition struct {
	From     string    `json:"from"`
	To       string    `json:"to"`
	Count    int       `json:"count"`
	Examples []Example `json:"examples"`
}

// Example is one message that would change team.
type Example struct {
	ID          string   `json:"id"`
	Channel     string   `json:"channel"`
	Text        string   `json:"text"`
	LiveMatched []string `json:"live_matched"`
	NewMatched  []string `json:"new_matched"`
	// LiveModel and NewModel say the model chose the team, with its top
	// three ("billing 0.81, sales 0.10, triage 0.04").
	LiveModel string `json:"live_model,omitempty"`
	NewModel  string `json:"new_model,omitempty"`
}

// Destination names where a decision sends an item, for the from → to table.
func Destination(d rules.Decision) string {
	if d.Noise {
		return "(noise)"
	}
	return strings.Join(d.Teams, "+")
}

// Run reads the ingest stream with an ordered consumer (nothing durable,
// nothing published) up to the last message present at the start, and
// classifies each envelope with both rule sets.
func Run(ctx context.Context, js jetstream.JetStream, live, next Classifier, o Options) (*Report, error) {
	if o.Idle <= 0 {
		o.Idle = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Skipped == nil {
		o.Skipped = func(string) {}
	}
	rep := &Report{Stream: o.Stream, LiveVersion: live.Version(), NewVersion: next.Version(), Transitions: []Transition{},
		LiveModel: modelVersion(live), NewModel: modelVersion(next)}
	if o.Last > 0 {
		rep.Last = o.Last
	} else {
		rep.Since = o.Now().Add(-o.Since).UTC().Format(time.RFC3339)
	}
	stream, err := js.Stream(ctx, o.Stream)
	if err != nil {
		return nil, fmt.Errorf("opening ingest stream %s: %w", o.Stream, err)
	}
	state := stream.CachedInfo().State
	if state.Msgs == 0 {
		return rep, nil
	}
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{o.Filter}}
	if o.Last > 0 {
		start := state.FirstSeq
		if state.LastSeq >= uint64(o.Last) && state.LastSeq-uint64(o.Last)+1 > start {
			start = state.LastSeq - uint64(o.Last) + 1
		}
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	} else {
		start := o.Now().Add(-o.Since)
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	cons, err := js.OrderedConsumer(ctx, o.Stream, occ)
	if err != nil {
		return nil, fmt.Errorf("reading ingest stream %s: %w", o.Stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(500))
	if err != nil {
		return nil, fmt.Errorf("reading ingest stream %s: %w", o.Stream, err)
	}
	defer it.Stop()
	byPair := map[[2]string]*Transition{}
	for {
		// The stream's last message at the start ends the replay; a quiet
		// period ends it when the window holds nothing more.
		waitCtx, cancel := context.WithTimeout(ctx, o.Idle)
		m, err := it.Next(jetstream.NextContext(waitCtx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
				break
			}
			return nil, fmt.Errorf("reading ingest stream %s: %w", o.Stream, err)
		}
		rep.compare(m.Data(), m.Subject(), live, next, byPair, o.Examples, o.Skipped)
		if meta, err := m.Metadata(); err == nil && meta.Sequence.Stream >= state.LastSeq {
			break
		}
	}
	for _, t := range byPair {
		rep.Transitions = append(rep.Transitions, *t)
	}
	sort.Slice(rep.Transitions, func(i, j int) bool {
		a, b := rep.Transitions[i], rep.Transitions[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.From+a.To < b.From+b.To
	})
	return rep, nil
}

// compare classifies one stored envelope with both rule sets.
func (rep *Report) compare(data []byte, subject string, live, next Classifier, byPair map[[2]string]*Transition, maxExamples int, skipped func(string)) {
	var env message.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		rep.Unreadable++
		skipped(fmt.Sprintf("skipping an unreadable message on %s: %v", subject, err))
		return
	}
	if err := env.Validate(); err != nil {
		rep.Unreadable++
		skipped(fmt.Sprintf("skipping invalid envelope %q on %s: %v", env.ID, subject, err))
		return
	}
	rep.Messages++
	a, b := live.Classify(&env), next.Classify(&env)
	if a.ModelDecided {
		rep.LiveByModel++
	}
	if b.ModelDecided {
		rep.NewByModel++
	}
	from, to := Destination(a), Destination(b)
	switch {
	case from != to:
		rep.Changed++
		key := [2]string{from, to}
		t := byPair[key]
		if t == nil {
			t = &Transition{From: from, To: to, Examples: []Example{}}
			byPair[key] = t
		}
		t.Count++
		if len(t.Examples) < maxExamples {
			ex := Example{
				ID: env.ID, Channel: env.Channel, Text: message.Excerpt(env.Subject, env.Text, 100),
				LiveMatched: slices.Clone(a.Matched), NewMatched: slices.Clone(b.Matched),
			}
			if a.ModelDecided {
				ex.LiveModel = a.Model.String()
			}
			if b.ModelDecided {
				ex.NewModel = b.Model.String()
			}
			t.Examples = append(t.Examples, ex)
		}
	case !slices.Equal(a.Topics, b.Topics) || a.Priority != b.Priority || !slices.Equal(a.Tags, b.Tags) || a.OverrideThread != b.OverrideThread:
		rep.Other++
	default:
		rep.Unchanged++
	}
}
