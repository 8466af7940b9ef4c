package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/casetest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/reroute"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

// world is a router with every kind of context, on an embedded backbone.
type world struct {
	b           *bus.Bus
	admin       *Admin
	records     *decisions.Store
	corrections *corrections.Store
}

const testRules = `default_team: triage
teams:
  - name: triage
  - name: logistics
routes:
  - id: logistics
    team: logistics
    match: {text: {any: [tilaus]}}
`

func start(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	b := bustest.Open(t, nil)
	rs, err := rules.Parse("rules.yaml", []byte(testRules))
	if err != nil {
		t.Fatal(err)
	}
	records, err := decisions.Open(ctx, b.JS, decisions.Config{Stream: b.Subjects.DecisionStream, Subjects: b.Subjects.Decisions(), MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	custs, cs := casetest.Open(ctx, t, b.JS, identity.Config{Patterns: map[string]string{"order": `\b11\d{5}\b`}})
	progress, threads, err := router.OpenState(ctx, b.JS, router.StateConfig{ProgressBucket: "test_progress", ThreadBucket: "test_threads", ThreadTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rt := router.New(router.Config{Stream: b.Subjects.IngestStream, FilterSubject: b.Subjects.AllIngest(), Consumer: "router",
		AckWait: 5 * time.Second, Workers: 4, FetchWait: 100 * time.Millisecond}, router.Deps{
		JS: b.JS, Rules: router.Static(rs),
		Targets:  &targets.Factory{NATS: targets.NewNATS(b.JS, b.Subjects.TeamStream, b.Subjects.Team)},
		Dead:     router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		Progress: progress, Threads: threads, Records: records,
		Customers: cases.Linker{Customers: custs, Cases: cs}, Cases: cs,
		Log: bustest.Logger(t),
	})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx, 5*time.Second) }()
	t.Cleanup(func() { stop(); testwait.Receive(t, 0, "the router to stop", done) })
	corrs, err := corrections.Open(ctx, b.JS, corrections.Config{Stream: b.Subjects.CorrectionStream, Subjects: b.Subjects.Corrections()})
	if err != nil {
		t.Fatal(err)
	}
	return &world{b: b, records: records, corrections: corrs, admin: &Admin{Customers: custs, Cases: cs, Records: records, Threads: threads,
		Corrections: corrs, Dead: router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		JS: b.JS, IngestStream: b.Subjects.IngestStream, TeamStream: b.Subjects.TeamStream}}
}

// reroute sends item id to team as an operator would and waits until the
// rerouted copy is delivered.
func (w *world) reroute(t *testing.T, id, team string) {
	t.Helper()
	rr := &reroute.Rerouter{JS: w.b.JS, IngestStream: w.b.Subjects.IngestStream, Records: w.records, Corrections: w.corrections,
		Teams: func() []string { return []string{"triage", "logistics"} }}
	res, err := rr.Do(context.Background(), reroute.Request{ID: id, Team: team, By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 0, "the rerouted copy of "+id+" delivered", func() error {
		r, err := w.records.Get(context.Background(), id)
		if err != nil {
			return err
		}
		if r.Seq != res.IngestSeq || !slices.ContainsFunc(r.Delivery, func(d decisions.Delivery) bool { return d.Team == team && d.OK }) {
			return fmt.Errorf("record at ingest sequence %d, deliveries %+v", r.Seq, r.Delivery)
		}
		return nil
	})
}

// keep stores what ops keep of env besides its message: a correction
// (which quotes the text) and a dead letter (which holds the envelope).
func (w *world) keep(t *testing.T, env *message.Envelope) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.corrections.Put(ctx, &corrections.Correction{ID: env.ID, From: []string{"logistics"}, To: "billing",
		Channel: env.Channel, Subject: env.Subject, Text: env.Text, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := json.Marshal(router.DeadLetter{Reason: router.ReasonDeliveryFailed, Error: "target down", Envelope: raw})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.JS.Publish(ctx, w.b.Subjects.Dead(router.ReasonDeliveryFailed), dead); err != nil {
		t.Fatal(err)
	}
}

func (w *world) publish(t *testing.T, envs ...*message.Envelope) {
	t.Helper()
	for _, e := range envs {
		if _, err := w.b.PublishIngest(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range envs {
		testwait.NoError(t, 0, "the delivery of "+e.ID, func() error {
			r, err := w.records.Get(context.Background(), e.ID)
			if err == nil && (len(r.Delivery) == 0 || !r.Delivery[0].OK) {
				err = errors.New("not delivered yet")
			}
			return err
		})
	}
}

func mail(id, from, thread, text string) *message.Envelope {
	now := time.Now().UTC()
	return &message.Envelope{Version: 1, ID: "email:" + id, Channel: "email", Kind: message.KindEmail, SourceID: id, ThreadID: thread,
		Author: message.Author{ID: from, Email: from, Name: "Maija Virtanen"}, Subject: "Tilaus", Text: text, CreatedAt: now, ReceivedAt: now}
}

// streamHolds reports whether any message in stream contains s.
func streamHolds(t *testing.T, js jetstream.JetStream, stream, s string) bool {
	t.Helper()
	for _, m := range bustest.Messages(context.Background(), t, js, stream) {
		h, _ := json.Marshal(m.Header)
		if strings.Contains(string(m.Data)+string(h)+m.Subject, s) {
			return true
		}
	}
	return false
}

func TestShowLinkUnlink(t *testing.T) {
	ctx := context.Background()
	w := start(t)
	w.publish(t, mail("a1@x", "maija@example.fi", "a1@x", "Tilaus 1180442 ei ole tullut"),
		mail("b1@x", "maija.v@example.org", "b1@x", "Hei, kysyisin aukioloajoista"))
	p, err := w.admin.Show(ctx, "email:maija@example.fi")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cases) != 1 || p.Cases[0].Team != "logistics" {
		t.Fatalf("cases %+v", p.Cases)
	}
	if _, err := w.admin.Show(ctx, "email:nobody@example.fi"); !errors.Is(err, customer.ErrUnknownKey) {
		t.Fatalf("an unknown key: %v", err)
	}
	c, _, err := w.admin.Link(ctx, "email:maija@example.fi", "email:maija.v@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Keys) < 2 {
		t.Fatalf("linked customer %+v", c)
	}
	// Both mails were about an order (their subject): two open logistics
	// cases, which become the one customer's one case.
	p, _ = w.admin.Show(ctx, "email:maija.v@example.org")
	if p.Customer.ID != c.ID || len(p.Cases) != 1 || p.Cases[0].ItemCount != 2 {
		t.Fatalf("after the link: %+v, want one customer with one case of both items", p)
	}
	if _, err := w.admin.Unlink(ctx, "email:maija@example.fi", "email:maija.v@example.org"); err != nil {
		t.Fatal(err)
	}
	a, _ := w.admin.Show(ctx, "email:maija@example.fi")
	b, _ := w.admin.Show(ctx, "email:maija.v@example.org")
	if a.Customer.ID == b.Customer.ID {
		t.Fatal("unlinked keys are still one customer")
	}
}

// forget leaves no trace of the customer in KV and, with messages, in the
// ingest stream, the decision records and the team queues.
func TestForgetLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	w := start(t)
	mine := []*message.Envelope{
		mail("m1@x", "maija@example.fi", "m1@x", "Tilaus 1180442 ei ole tullut"),
		mail("m2@x", "maija@example.fi", "m1@x", "Vieläkin odotan"),
	}
	other := mail("o1@x", "kalle@example.fi", "o1@x", "Tilaus 1170001 on rikki")
	w.publish(t, append(mine, other)...)
	w.keep(t, mine[1])
	w.keep(t, other)
	// An operator reroutes the first: its record now points at the copy,
	// and the original stays in the ingest stream beside it.
	w.reroute(t, mine[0].ID, "triage")

	out, err := w.admin.Forget(ctx, "email:maija@example.fi", true)
	if err != nil {
		t.Fatal(err)
	}
	// Three messages (two and the rerouted copy), three routed copies, two
	// corrections (the reroute's and the kept one).
	if out.Customer == nil || len(out.Customer.Keys) < 2 || len(out.Cases) != 1 || len(out.Messages) != 3 ||
		out.Records != 2 || out.TeamCopies != 3 || len(out.Conversations) != 1 || out.Corrections != 2 || len(out.DeadLetters) != 1 {
		t.Fatalf("forget removed %+v", out)
	}
	for _, trace := range []string{"maija@example.fi", "1180442", "Vieläkin odotan"} {
		for _, stream := range []string{w.b.Subjects.IngestStream, w.b.Subjects.TeamStream, w.b.Subjects.DecisionStream,
			w.b.Subjects.CorrectionStream, w.b.Subjects.DeadStream,
			"KV_" + customer.DefaultBucket, "KV_" + customer.DefaultBucket + "_items", "KV_test_cases", "KV_test_threads"} {
			if streamHolds(t, w.b.JS, stream, trace) {
				t.Errorf("%s still holds %q", stream, trace)
			}
		}
	}
	// The customer's id is gone from every record that remains.
	if streamHolds(t, w.b.JS, w.b.Subjects.DecisionStream, out.Customer.ID) || streamHolds(t, w.b.JS, "KV_test_cases", out.Customer.ID) {
		t.Error("the customer's id survives")
	}
	// Another customer is untouched.
	for _, stream := range []string{w.b.Subjects.IngestStream, w.b.Subjects.CorrectionStream, w.b.Subjects.DeadStream} {
		if !streamHolds(t, w.b.JS, stream, "1170001") {
			t.Errorf("another customer's copy in %s was deleted", stream)
		}
	}
	if _, err := w.admin.Show(ctx, "email:kalle@example.fi"); err != nil {
		t.Fatalf("another customer: %v", err)
	}
}

// Without messages, the messages stay and the records lose the customer.
func TestForgetKeepsMessagesUnlessAsked(t *testing.T) {
	ctx := context.Background()
	w := start(t)
	w.publish(t, mail("m1@x", "maija@example.fi", "m1@x", "Tilaus 1180442 ei ole tullut"))
	out, err := w.admin.Forget(ctx, "email:maija@example.fi", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 || out.Records != 1 {
		t.Fatalf("forget without messages removed %+v", out)
	}
	r, err := w.records.Get(ctx, "email:m1@x")
	if err != nil || r.Customer != nil || r.Case != nil {
		t.Fatalf("record after forget: %+v %v", r, err)
	}
	if !streamHolds(t, w.b.JS, w.b.Subjects.IngestStream, "1180442") {
		t.Fatal("the message was deleted without being asked")
	}
}
