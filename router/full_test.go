package router

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/rules"
)

// A team stream at its max_bytes must not drop items: every routed item is
// either in the team stream or a dead letter, and the refusals are counted.
func TestFullTeamStreamLosesNothingSilently(t *testing.T) {
	cfg := bustest.Config(t)
	cfg.Streams.Team.MaxBytes = 16 << 10 // room for about ten items below
	b := bustest.Open(t, cfg)
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("billing")}}
	h := startRouter(t, b, Static(rs), harnessOpts{cfg: func(c *Config) { c.MaxDeliver = 3; c.BreakerFailures = 1000 }})
	const n = 60
	want := map[string]bool{}
	for range n {
		env := envelope("to=billing " + strings.Repeat("b", 1<<10))
		want[env.ID] = true
		h.publish(env)
	}
	h.waitAcked(30 * time.Second)

	inStream := teamIDs(t, b, "billing")
	ctx := context.Background()
	dead, err := h.dead.List(ctx, DeadQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inStream) == 0 || len(dead) == 0 {
		t.Fatalf("%d items in the team stream, %d dead letters: want both", len(inStream), len(dead))
	}
	seen := map[string]string{}
	for _, id := range inStream {
		seen[id] = "team stream"
	}
	for _, d := range dead {
		id := d.EnvelopeID()
		if where, dup := seen[id]; dup {
			t.Fatalf("%s is in the %s and dead-lettered", id, where)
		}
		seen[id] = "dead letters"
		if d.Reason != ReasonDeliveryFailed || d.Team != "billing" || !strings.Contains(d.Error, "stream SWITCHBOARD_TEAM is full") {
			t.Fatalf("dead letter %s: reason %s, team %s, error %q", id, d.Reason, d.Team, d.Error)
		}
	}
	for id := range want {
		if seen[id] == "" {
			t.Errorf("%s vanished: neither in the team stream nor dead-lettered", id)
		}
	}
	st, err := b.JS.Stream(ctx, b.Subjects.TeamStream)
	if err != nil {
		t.Fatal(err)
	}
	if first := st.CachedInfo().State.FirstSeq; first != 1 {
		t.Fatalf("the team stream dropped its oldest items (first seq %d)", first)
	}
	if got := h.metrics.count("retried/billing/nats/stream_full"); got < len(dead) {
		t.Fatalf("%d stream_full retries counted for %d refused items", got, len(dead))
	}
	if got := h.metrics.count("dead/delivery_failed/billing"); got != len(dead) {
		t.Fatalf("%d dead letters counted, %d stored", got, len(dead))
	}
}
