package reroute

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

const testRules = `default_team: triage
teams: [{name: triage}, {name: billing}, {name: logistics}, {name: sales}]
routes:
  - id: billing
    team: billing
    match: {text: {any: [lasku]}}
`

// daemon is the part of the daemon a reroute needs: the backbone, the
// decision records, the corrections, a rerouter and a running router.
type daemon struct {
	t       *testing.T
	cfg     *config.Config
	b       *bus.Bus
	records *decisions.Store
	store   *corrections.Store
	rr      *Rerouter
	stop    func()
}

// start opens the backbone for cfg (a restart when it ran before) and the
// stores, and builds the rerouter; the router is started separately.
func start(t *testing.T, cfg *config.Config) *daemon {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg, bustest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	records, err := decisions.Open(ctx, b.JS, decisions.Config{Stream: b.Subjects.DecisionStream, Subjects: b.Subjects.Decisions(), MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	store, err := corrections.Open(ctx, b.JS, corrections.Config{Stream: b.Subjects.CorrectionStream, Subjects: b.Subjects.Corrections()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rules.Parse("rules.yaml", []byte(testRules))
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cfg: cfg, b: b, records: records, store: store, stop: func() {}}
	d.rr = &Rerouter{JS: b.JS, IngestStream: b.Subjects.IngestStream, Records: records, Corrections: store,
		Teams: func() []string {
			var out []string
			for _, tm := range r.Teams() {
				out = append(out, tm.Name)
			}
			return out
		}}
	t.Cleanup(func() { d.stop(); b.Close() })
	return d
}

// run starts the router with the test rules.
func (d *daemon) run() {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	progress, threads, err := router.OpenState(ctx, d.b.JS, router.StateConfig{ProgressBucket: "test_progress", ThreadBucket: "test_threads", ThreadTTL: time.Hour})
	if err != nil {
		d.t.Fatal(err)
	}
	r, err := rules.Parse("rules.yaml", []byte(testRules))
	if err != nil {
		d.t.Fatal(err)
	}
	b := d.b
	rt := router.New(router.Config{
		Stream: b.Subjects.IngestStream, FilterSubject: b.Subjects.AllIngest(), Consumer: "router",
		AckWait: 5 * time.Second, MaxDeliver: 10, Workers: 2, RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		FetchWait: 100 * time.Millisecond,
	}, router.Deps{
		JS: b.JS, Rules: router.Static(r),
		Targets:  &targets.Factory{NATS: targets.NewNATS(b.JS, b.Subjects.TeamStream, b.Subjects.Team)},
		Dead:     router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		Progress: progress, Threads: threads, Records: d.records, Log: bustest.Logger(d.t),
	})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(runCtx, 5*time.Second) }()
	stopped := false
	d.stop = func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		testwait.Receive(d.t, 15*time.Second, "the router to stop", done)
	}
}

// shutdown stops the router and the backbone, like a daemon restart.
func (d *daemon) shutdown() {
	d.stop()
	d.b.Close()
}

// teamIDs lists the item ids in team's queue, in order.
func (d *daemon) teamIDs(team string) []string {
	d.t.Helper()
	ctx := context.Background()
	s, err := d.b.JS.Stream(ctx, d.b.Subjects.TeamStream)
	if err != nil {
		d.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	var ids []string
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil || m.Subject != d.b.Subjects.Team(team) {
			continue
		}
		var r message.Routed
		if err := json.Unmarshal(m.Data, &r); err != nil {
			d.t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// record waits until the item's record satisfies ok and returns it.
func (d *daemon) record(id, what string, ok func(*decisions.Record) bool) *decisions.Record {
	d.t.Helper()
	var rec *decisions.Record
	testwait.Until(d.t, 10*time.Second, what, func() bool {
		r, err := d.records.Get(context.Background(), id)
		if err != nil || !ok(r) {
			return false
		}
		rec = r
		return true
	})
	return rec
}

func envelope(id, text string) *message.Envelope {
	now := time.Now().UTC()
	return &message.Envelope{Version: message.SchemaVersion, ID: "web:" + id, Channel: "web", Kind: message.KindWeb,
		SourceID: id, Text: text, Subject: "Tilaus", Lang: "fi", CreatedAt: now, ReceivedAt: now}
}

// TestRerouteSurvivesRestartAndDeliversOnce: an item the rules sent to
// billing is rerouted to logistics while the router is down; the daemon
// restarts; logistics gets it exactly once, the record says who rerouted
// it, the correction is kept, and asking again changes nothing.
func TestRerouteSurvivesRestartAndDeliversOnce(t *testing.T) {
	cfg := bustest.Config(t)
	d := start(t, cfg)
	d.run()
	env := envelope("m1", "Lasku tuli mutta paketti ei")
	if _, err := d.b.PublishIngest(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	d.record(env.ID, "the item to be routed to billing", func(r *decisions.Record) bool { return slices.Equal(r.Teams, []string{"billing"}) })
	if r, _ := d.records.Get(context.Background(), env.ID); r.Route != "billing" || r.ModelDecided {
		t.Errorf("record: route %q, model decided %v", r.Route, r.ModelDecided)
	}
	d.stop()

	res, err := d.rr.Do(context.Background(), Request{ID: env.ID, Team: "logistics", By: "maija", Note: "paketti on pääasia"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || !slices.Equal(res.From, []string{"billing"}) || !slices.Equal(res.Teams, []string{"logistics"}) {
		t.Errorf("result %+v", res)
	}
	// Asked twice before the router saw it: stored once.
	if again, err := d.rr.Do(context.Background(), Request{ID: env.ID, Team: "logistics", By: "maija"}); err != nil || !again.Duplicate {
		t.Errorf("second request: %+v, %v", again, err)
	}

	d.shutdown()
	d = start(t, cfg)
	d.run()
	rec := d.record(env.ID, "the reroute to reach logistics", func(r *decisions.Record) bool {
		return r.Reason == decisions.ReasonReroute && slices.Equal(r.Teams, []string{"logistics"}) && r.Outcome == decisions.OutcomeRouted
	})
	testwait.Until(t, 10*time.Second, "logistics to have the item", func() bool { return len(d.teamIDs("logistics")) > 0 })
	ev := rec.History[len(rec.History)-1]
	if ev.Kind != decisions.EventReroute || ev.By != "maija" || ev.Detail != "paketti on pääasia" {
		t.Errorf("last event %+v", ev)
	}
	// Once more after the router handled it: the record says it is done.
	if again, err := d.rr.Do(context.Background(), Request{ID: env.ID, Team: "logistics"}); err != nil || !again.Duplicate {
		t.Errorf("request after delivery: %+v, %v", again, err)
	}
	d.shutdown()
	d = start(t, cfg)
	d.run()
	// Another item routed after the restart proves the router caught up.
	other := envelope("m2", "lasku")
	if _, err := d.b.PublishIngest(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	d.record(other.ID, "a later item to be routed", func(r *decisions.Record) bool { return len(r.Teams) > 0 })
	if got := d.teamIDs("logistics"); !slices.Equal(got, []string{env.ID}) {
		t.Errorf("logistics has %v, want the item once", got)
	}
	if got := d.teamIDs("billing"); !slices.Equal(got, []string{env.ID, other.ID}) {
		t.Errorf("billing has %v", got)
	}
	cs, err := d.store.List(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("%d corrections: %+v", len(cs), cs)
	}
	c := cs[0]
	if c.ID != env.ID || c.To != "logistics" || !slices.Equal(c.From, []string{"billing"}) || c.DecidedBy != "billing" ||
		c.By != "maija" || c.Text != env.Text || c.Subject != "Tilaus" || c.Lang != "fi" || c.RulesVersion == "" {
		t.Errorf("correction %+v", c)
	}
	if got := corrections.ToRules(cs); len(got) != 1 || got[0].Team != "logistics" || got[0].Text != env.Text {
		t.Errorf("training input %+v", got)
	}
}

func TestRerouteRefuses(t *testing.T) {
	d := start(t, bustest.Config(t))
	d.run()
	env := envelope("m1", "lasku")
	if _, err := d.b.PublishIngest(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	d.record(env.ID, "the item to be routed", func(r *decisions.Record) bool { return len(r.Teams) > 0 })
	tests := []struct {
		req  Request
		want error
	}{
		{Request{ID: env.ID}, ErrBadRequest},
		{Request{ID: env.ID, Team: "biling"}, ErrBadRequest},
		{Request{ID: env.ID, Team: "sales", Also: []string{"nobody"}}, ErrBadRequest},
		{Request{ID: "web:never", Team: "sales"}, ErrNotFound},
	}
	for _, tt := range tests {
		if _, err := d.rr.Do(context.Background(), tt.req); !errors.Is(err, tt.want) {
			t.Errorf("%+v: %v, want %v", tt.req, err, tt.want)
		}
	}
	// The item's message gone from the ingest stream: nothing to deliver.
	s, err := d.b.JS.Stream(context.Background(), d.b.Subjects.IngestStream)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := d.records.Get(context.Background(), env.ID)
	if err := s.DeleteMsg(context.Background(), rec.Seq); err != nil {
		t.Fatal(err)
	}
	if _, err := d.rr.Do(context.Background(), Request{ID: env.ID, Team: "sales"}); !errors.Is(err, ErrGone) {
		t.Errorf("expired item: %v", err)
	}
}

// TestHandlerAndConsoleHook: the HTTP endpoint and the console's hook
// reroute, and say what was wrong as the right status.
func TestHandlerAndConsoleHook(t *testing.T) {
	d := start(t, bustest.Config(t))
	d.run()
	for _, id := range []string{"m1", "m2"} {
		if _, err := d.b.PublishIngest(context.Background(), envelope(id, "lasku")); err != nil {
			t.Fatal(err)
		}
		d.record("web:"+id, "the item to be routed", func(r *decisions.Record) bool { return len(r.Teams) > 0 })
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/messages/{id}/reroute", Handler(d.rr))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(id, body string) (int, string) {
		resp, err := http.Post(srv.URL+"/v1/messages/"+id+"/reroute", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, buf.String()
	}
	for _, tt := range []struct {
		id, body string
		code     int
		want     string
	}{
		{"web:m1", `{"team": "sales", "by": "ops", "note": "a quote request"}`, 200, `"teams":["sales"]`},
		{"web:m1", `{"team": "sales"}`, 200, `"duplicate":true`},
		{"web:m1", `{"team": "nobody"}`, 400, "not in the rules in force"},
		{"web:m1", `{"tem": "sales"}`, 400, "unknown field"},
		{"web:none", `{"team": "sales"}`, 404, "no decision record"},
	} {
		code, body := post(tt.id, tt.body)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s %s: %d %s; want %d, %q", tt.id, tt.body, code, body, tt.code, tt.want)
		}
	}
	if err := d.rr.Reroute(context.Background(), "web:m2", []string{"logistics", "sales"}, "console-user"); err != nil {
		t.Fatal(err)
	}
	rec := d.record("web:m2", "the console's reroute", func(r *decisions.Record) bool { return r.Reason == decisions.ReasonReroute })
	if !slices.Equal(rec.Teams, []string{"logistics", "sales"}) || rec.History[len(rec.History)-1].By != "console-user" {
		t.Errorf("record %+v", rec)
	}
	testwait.Until(t, 10*time.Second, "sales to have both items", func() bool { return len(d.teamIDs("sales")) == 2 })
	testwait.Until(t, 10*time.Second, "logistics to have the console's item", func() bool { return len(d.teamIDs("logistics")) == 1 })
}
