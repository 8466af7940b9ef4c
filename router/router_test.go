package router

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/redistest"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

// Every target of every matched team gets the item once, the ingest
// message is acked, and re-driving the whole ingest stream from the start
// (what a crash before the acks amounts to) stores nothing twice.
func TestDeliversToEveryTargetOnceAndRedeliveryNeverDuplicates(t *testing.T) {
	rd := redistest.New(t)
	b := bustest.Open(t, nil)
	hk := newHook(t, http.StatusOK)
	stream := rd.Key("team:billing")
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("billing", targetspec.Spec{Type: targetspec.NATS}, targetspec.Spec{Type: targetspec.Redis, Stream: stream}, webhookTarget(hk.url())),
		natsTeam("triage"), natsTeam("sales"),
	}}
	h := startRouter(t, b, Static(rs), harnessOpts{redis: rd.Client})
	var billing []string
	for i := range 20 {
		env := envelope("hello")
		if i%2 == 0 {
			env = envelope("to=billing,sales invoice")
			billing = append(billing, env.ID)
		}
		h.publish(env)
	}
	h.waitAcked(10 * time.Second)

	check := func(stage string) {
		t.Helper()
		for team, want := range map[string]int{"billing": 10, "sales": 10, "triage": 10} {
			ids := teamIDs(t, b, team)
			if n, dup := distinct(ids); len(ids) != want || n != want {
				t.Fatalf("%s: NATS %s holds %d items (%d distinct, dup %q), want %d", stage, team, len(ids), n, dup, want)
			}
		}
		entries, err := rd.Client.XRange(context.Background(), stream, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		var rids []string
		for _, e := range entries {
			rids = append(rids, e.Values["id"].(string))
		}
		if n, dup := distinct(rids); len(rids) != 10 || n != 10 {
			t.Fatalf("%s: redis stream holds %d entries (%d distinct, dup %q), want 10", stage, len(rids), n, dup)
		}
		_, _, accepted := hk.stats()
		for _, id := range billing {
			if accepted[key(id, "billing")] < 1 {
				t.Fatalf("%s: webhook never accepted %s", stage, id)
			}
		}
		if len(accepted) != 10 {
			t.Fatalf("%s: webhook accepted %d distinct keys, want 10: %v", stage, len(accepted), sortedKeys(accepted))
		}
	}
	check("first pass")
	if got := h.metrics.count("routed/billing"); got != 10 {
		t.Fatalf("routed/billing metric %d", got)
	}
	if got := h.metrics.count("delivered/billing/redis:" + stream); got != 10 {
		t.Fatalf("delivered metric for redis %d", got)
	}
	// The webhook body is the routed item.
	_, _, _ = hk.stats()
	hk.mu.Lock()
	body := hk.bodies[key(billing[0], "billing")]
	hk.mu.Unlock()
	if body.ID != billing[0] || body.Team != "billing" || body.Route.RulesVersion != "v1" || body.RoutedAt.IsZero() {
		t.Fatalf("webhook body %+v", body)
	}

	// Re-drive everything: a new consumer from the stream's start.
	h.stop()
	if err := b.JS.DeleteConsumer(context.Background(), b.Subjects.IngestStream, "router"); err != nil {
		t.Fatal(err)
	}
	h2 := startRouter(t, b, Static(rs), harnessOpts{redis: rd.Client})
	h2.waitAcked(10 * time.Second)
	check("after re-driving the whole stream")
	total, requests, _ := hk.stats()
	if total != 20 {
		t.Fatalf("webhook got %d requests over two passes, want 20 (10 keys twice, same Idempotency-Key)", total)
	}
	for k, n := range requests {
		if n != 2 {
			t.Fatalf("key %s requested %d times, want 2", k, n)
		}
	}
}

// A webhook that hangs must not hold up other teams: workers are freed by
// the attempt timeout and then by the breaker, and the failing team retries
// with NakWithDelay. The item fanned out to both teams reaches the healthy
// team once, and the failing team once it recovers.
func TestIsolationOneTargetDownOthersFlow(t *testing.T) {
	b := bustest.Open(t, nil)
	down := newHook(t, http.StatusOK)
	down.hang.Store(true)
	up := newHook(t, http.StatusOK)
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("a", webhookTarget(down.url())),
		teamOf("b", targetspec.Spec{Type: targetspec.NATS}, webhookTarget(up.url())),
		natsTeam("triage"),
	}}
	h := startRouter(t, b, Static(rs), harnessOpts{cfg: func(c *Config) {
		c.Workers = 2
		c.AttemptTimeout = 300 * time.Millisecond
	}})
	shared := envelope("to=a,b")
	h.publish(shared)
	var bOnly []*message.Envelope
	for range 10 {
		bOnly = append(bOnly, envelope("to=a"))
	}
	for range 30 {
		bOnly = append(bOnly, envelope("to=b"))
	}
	h.publish(bOnly...)

	// 31 items for b flow while a is down (10 items for a keep failing).
	start := time.Now()
	testwait.Until(t, 10*time.Second, "team b's 31 items while team a is down", func() bool { return len(teamIDs(t, b, "b")) == 31 })
	t.Logf("team b got 31 items in %s with team a's webhook hanging", time.Since(start))
	if v, _ := h.metrics.gauge("circuit/a/webhook:" + strings.TrimPrefix(down.srv.URL, "http://")); v != 1 {
		t.Fatalf("a's breaker not open while its webhook hangs")
	}
	if h.allAcked() {
		t.Fatal("everything acked although team a never accepted")
	}

	down.hang.Store(false)
	h.waitAcked(15 * time.Second)
	_, _, accA := down.stats()
	if len(accA) != 11 {
		t.Fatalf("a's webhook accepted %d distinct items, want 11", len(accA))
	}
	for k, n := range accA {
		if n != 1 {
			t.Fatalf("a's webhook accepted %s %d times", k, n)
		}
	}
	// b's webhook was called exactly once per item: the progress record
	// kept the shared item's retries away from it.
	total, requests, _ := up.stats()
	if total != 31 || requests[key(shared.ID, "b")] != 1 {
		t.Fatalf("b's webhook got %d requests (%d for the shared item), want 31 (1)", total, requests[key(shared.ID, "b")])
	}
	if ids := teamIDs(t, b, "b"); len(ids) != 31 {
		t.Fatalf("b's NATS queue holds %d, want 31", len(ids))
	}
	if h.metrics.count("retried/a/webhook:"+strings.TrimPrefix(down.srv.URL, "http://")+"/circuit_open") == 0 {
		t.Fatal("no attempt at a was skipped by the breaker")
	}
}

func TestWebhookFailingNTimesThenRecovering(t *testing.T) {
	b := bustest.Open(t, nil)
	const failures = 7
	hk := newHook(t, http.StatusOK)
	hk.failFirst.Store(failures)
	rs := &fakeRules{version: "v1", teams: []rules.Team{teamOf("a", webhookTarget(hk.url())), natsTeam("triage")}}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	var envs []*message.Envelope
	for range 3 {
		envs = append(envs, envelope("to=a"))
	}
	h.publish(envs...)
	h.waitAcked(15 * time.Second)
	total, _, accepted := hk.stats()
	for _, env := range envs {
		if accepted[key(env.ID, "a")] != 1 {
			t.Fatalf("%s accepted %d times, want once", env.ID, accepted[key(env.ID, "a")])
		}
	}
	if total != 3 {
		t.Fatalf("the recording handler saw %d requests after the failures, want 3", total)
	}
	if h.metrics.count("redelivery/delivery_failed") == 0 {
		t.Fatal("no retry was counted")
	}
	if list, _ := h.dead.List(context.Background(), DeadQuery{}); len(list) != 0 {
		t.Fatalf("dead letters: %+v", list)
	}
}

// Redis stopped in the middle of a run: the NATS team keeps flowing, the
// Redis team's items wait, and after Redis is back every item is in the
// Redis stream exactly once.
func TestRedisStoppedMidRunAndStartedAgain(t *testing.T) {
	srv := redistest.StartServer(t)
	rc, err := targets.NewRedisClient(config.Redis{URL: secret.Secret(srv.URL), DialTimeout: yamlDur(200 * time.Millisecond),
		ReadTimeout: yamlDur(300 * time.Millisecond), WriteTimeout: yamlDur(300 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	b := bustest.Open(t, nil)
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("a", targetspec.Spec{Type: targetspec.Redis, Stream: "queue:a"}), natsTeam("b"), natsTeam("triage"),
	}}
	h := startRouter(t, b, Static(rs), harnessOpts{redis: rc, cfg: func(c *Config) { c.AttemptTimeout = 500 * time.Millisecond }})
	for range 10 {
		h.publish(envelope("to=a"), envelope("to=b"))
	}
	h.waitAcked(10 * time.Second)

	srv.Kill()
	for range 10 {
		h.publish(envelope("to=a"), envelope("to=b"))
	}
	testwait.Until(t, 10*time.Second, "team b's items while Redis is down", func() bool { return len(teamIDs(t, b, "b")) == 20 })
	if h.allAcked() {
		t.Fatal("items for the Redis team acked while Redis was down")
	}
	rounds := h.metrics.count("redelivery/" + ReasonDeliveryFailed)
	testwait.Until(t, 10*time.Second, "three more failed rounds of the 10 items against the dead Redis", func() bool {
		return h.metrics.count("redelivery/"+ReasonDeliveryFailed) >= rounds+30
	})
	srv.Start()
	h.waitAcked(15 * time.Second)
	entries, err := rc.XRange(context.Background(), "queue:a", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Values["id"].(string))
	}
	if n, dup := distinct(ids); len(ids) != 20 || n != 20 {
		t.Fatalf("redis stream holds %d entries (%d distinct, dup %q), want 20", len(ids), n, dup)
	}
	if ids := teamIDs(t, b, "b"); len(ids) != 20 {
		t.Fatalf("b holds %d", len(ids))
	}
}

// After MaxDeliver attempts the failing team's copy is dead-lettered with
// the reason and the original envelope; the other team keeps its one copy.
// Replay after the fix delivers to the failed team only, once.
func TestMaxDeliveriesDeadLetterAndReplay(t *testing.T) {
	b := bustest.Open(t, nil)
	hookA := newHook(t, http.StatusServiceUnavailable)
	hookB := newHook(t, http.StatusOK)
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("a", webhookTarget(hookA.url())), teamOf("b", webhookTarget(hookB.url())), natsTeam("triage"),
	}}
	h := startRouter(t, b, Static(rs), harnessOpts{cfg: func(c *Config) { c.MaxDeliver = 3; c.BreakerFailures = 100 }})
	env := envelope("to=a,b")
	h.publish(env)
	h.waitAcked(10 * time.Second)

	ctx := context.Background()
	list, err := h.dead.List(ctx, DeadQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d dead letters, want 1", len(list))
	}
	dl := list[0]
	var orig message.Envelope
	if err := json.Unmarshal(dl.Envelope, &orig); err != nil || orig.ID != env.ID || orig.Text != env.Text {
		t.Fatalf("dead letter envelope %s (%v)", dl.Envelope, err)
	}
	if dl.Reason != ReasonDeliveryFailed || dl.Team != "a" || dl.Deliveries != 3 || dl.RulesVersion != "v1" ||
		!strings.Contains(dl.Error, "503") || !strings.HasPrefix(dl.Target, "webhook:127.0.0.1:") || dl.Subject != "switchboard.ingest.web" {
		t.Fatalf("dead letter %+v", dl)
	}
	if strings.Contains(dl.Error, "sekret") {
		t.Fatalf("dead letter error leaks the webhook URL: %s", dl.Error)
	}
	if total, _, _ := hookA.stats(); total != 3 {
		t.Fatalf("a's webhook got %d requests, want 3", total)
	}
	if total, _, _ := hookB.stats(); total != 1 {
		t.Fatalf("b's webhook got %d requests, want 1", total)
	}
	if h.metrics.count("dead/delivery_failed/a") != 1 {
		t.Fatal("dead letter not counted")
	}

	// Fix the cause, replay.
	hookA.status.Store(http.StatusOK)
	res, err := h.dead.Replay(ctx, dl)
	if err != nil || res.Duplicate || res.IngestSeq == 0 {
		t.Fatalf("replay: %+v %v", res, err)
	}
	h.waitAcked(10 * time.Second)
	if _, _, acc := hookA.stats(); acc[key(env.ID, "a")] != 1 {
		t.Fatalf("a accepted the replayed item %d times", acc[key(env.ID, "a")])
	}
	if total, _, _ := hookB.stats(); total != 1 {
		t.Fatalf("replay reached team b again (%d requests)", total)
	}
	if list, _ := h.dead.List(ctx, DeadQuery{}); len(list) != 0 {
		t.Fatalf("dead letter still listed after replay: %+v", list)
	}
	// Replaying the same dead letter again stores nothing new.
	res, err = h.dead.Replay(ctx, dl)
	if err != nil || !res.Duplicate {
		t.Fatalf("second replay: %+v %v", res, err)
	}
	if _, err := h.dead.Get(ctx, dl.Seq); err == nil || !strings.Contains(err.Error(), "replayed already") {
		t.Fatalf("get of a replayed dead letter: %v", err)
	}
}

func TestRejectedItemIsDeadLetteredAtOnce(t *testing.T) {
	b := bustest.Open(t, nil)
	hk := newHook(t, http.StatusUnprocessableEntity)
	rs := &fakeRules{version: "v1", teams: []rules.Team{teamOf("a", webhookTarget(hk.url())), natsTeam("b"), natsTeam("triage")}}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	env := envelope("to=a,b")
	h.publish(env)
	h.waitAcked(10 * time.Second)
	list, _ := h.dead.List(context.Background(), DeadQuery{Reason: ReasonRejected})
	if len(list) != 1 || list[0].Team != "a" || list[0].Deliveries != 1 || !strings.Contains(list[0].Error, "422") {
		t.Fatalf("rejected dead letters %+v", list)
	}
	if ids := teamIDs(t, b, "b"); len(ids) != 1 {
		t.Fatalf("b holds %d", len(ids))
	}
}

func TestMalformedAndInvalidAreDeadLettered(t *testing.T) {
	b := bustest.Open(t, nil)
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage")}}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	ctx := context.Background()
	if _, err := b.JS.Publish(ctx, "switchboard.ingest.web", []byte("not json\xff")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.JS.Publish(ctx, "switchboard.ingest.web", []byte(`{"v":1,"id":"web:x","channel":"web","kind":"web"}`)); err != nil {
		t.Fatal(err)
	}
	h.publish(envelope("fine"))
	h.waitAcked(10 * time.Second)
	mal, _ := h.dead.List(ctx, DeadQuery{Reason: ReasonMalformed})
	inv, _ := h.dead.List(ctx, DeadQuery{Reason: ReasonInvalid})
	if len(mal) != 1 || string(mal[0].RawBytes) != "not json\xff" || mal[0].Envelope != nil || !strings.Contains(mal[0].Error, "decoding envelope") {
		t.Fatalf("malformed %+v", mal)
	}
	if len(inv) != 1 || inv[0].EnvelopeID() != "web:x" || !strings.Contains(inv[0].Error, "source_id: missing") {
		t.Fatalf("invalid %+v", inv)
	}
	if ids := teamIDs(t, b, "triage"); len(ids) != 1 {
		t.Fatalf("triage holds %d", len(ids))
	}
	// A replayed malformed message fails the same way and is dead-lettered again.
	if _, err := h.dead.Replay(ctx, mal[0]); err != nil {
		t.Fatal(err)
	}
	h.waitAcked(10 * time.Second)
	mal, _ = h.dead.List(ctx, DeadQuery{Reason: ReasonMalformed})
	if len(mal) != 1 || mal[0].ReplayOf == 0 {
		t.Fatalf("replayed malformed %+v", mal)
	}
}

// The router decides with context: an item whose own text decides is
// routed by it; one that decides nothing follows the item it answers, or
// its private conversation's latest item, else the default team. A public
// thread (a post's comments, an X conversation) never captures its items.
func TestConversationContext(t *testing.T) {
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage"), natsTeam("billing"), natsTeam("privacy"), natsTeam("sales")}}
	type step struct {
		channel string
		kind    message.Kind
		id      string
		parent  string
		thread  string
		text    string
		want    []string
		reason  string
	}
	fb := func(kind message.Kind, id, parent, text string, want []string, reason string) step {
		return step{"facebook", kind, id, parent, "post1", text, want, reason}
	}
	chat := func(id, thread, text string, want []string, reason string) step {
		return step{"facebook", message.KindMessage, id, "", thread, text, want, reason}
	}
	tests := []struct {
		name      string
		noThreads bool
		steps     []step
	}{
		{"comments on the page's own post", false, []step{
			fb(message.KindComment, "c1", "post1", "to=sales", []string{"sales"}, decisions.ReasonText),
			fb(message.KindComment, "c2", "post1", "hello", []string{"triage"}, decisions.ReasonDefault), // not captured by c1
			fb(message.KindReply, "r1", "c1", "same here", []string{"sales"}, decisions.ReasonParent),
			fb(message.KindReply, "r2", "c2", "to=billing", []string{"billing"}, decisions.ReasonText),
			fb(message.KindReply, "r3", "r2", "+1", []string{"billing"}, decisions.ReasonParent),
			fb(message.KindComment, "c3", "post1", "noise", nil, decisions.ReasonText),
			fb(message.KindReply, "r4", "c3", "hello", []string{"triage"}, decisions.ReasonDefault), // noise claims nothing
		}},
		{"a chat that opens with a greeting", false, []step{
			chat("m1", "t_1", "hello", []string{"triage"}, decisions.ReasonDefault),
			chat("m2", "t_1", "to=billing", []string{"billing"}, decisions.ReasonText),
			chat("m3", "t_1", "order 1180442", []string{"billing"}, decisions.ReasonConversation),
			chat("m4", "t_2", "order 1180443", []string{"triage"}, decisions.ReasonDefault), // another chat
			chat("m5", "t_1", "to=privacy,sales", []string{"privacy", "sales"}, decisions.ReasonText),
			chat("m6", "t_1", "thanks", []string{"privacy", "sales"}, decisions.ReasonConversation),
		}},
		{"an X reply chain under the company's tweet", false, []step{
			{"x", message.KindMention, "t1", "own", "own", "to=privacy", []string{"privacy"}, decisions.ReasonText},
			{"x", message.KindMention, "t2", "t1", "own", "still nothing", []string{"privacy"}, decisions.ReasonParent},
			{"x", message.KindMention, "t3", "own", "own", "hello", []string{"triage"}, decisions.ReasonDefault},
		}},
		{"without the conversation map replies still follow parents", true, []step{
			chat("m1", "t_1", "to=billing", []string{"billing"}, decisions.ReasonText),
			chat("m2", "t_1", "hello", []string{"triage"}, decisions.ReasonDefault),
			fb(message.KindComment, "c1", "post1", "to=sales", []string{"sales"}, decisions.ReasonText),
			fb(message.KindReply, "r1", "c1", "hello", []string{"sales"}, decisions.ReasonParent),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bustest.Open(t, nil)
			h := startRouter(t, b, Static(rs), harnessOpts{noThreads: tt.noThreads})
			for i, s := range tt.steps {
				env := envelope(s.text)
				env.Channel, env.Kind, env.SourceID, env.ParentID, env.ThreadID = s.channel, s.kind, s.id, s.parent, s.thread
				env.ID = message.MakeID(s.channel, s.id)
				h.publish(env)
				h.waitAcked(10 * time.Second)
				var got []string
				for _, tm := range []string{"triage", "billing", "privacy", "sales"} {
					for _, id := range teamIDs(t, b, tm) {
						if id == env.ID {
							got = append(got, tm)
						}
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(sortTeams(s.want)) {
					t.Fatalf("step %d (%s %s %q): delivered to %v, want %v", i, s.kind, s.id, s.text, got, s.want)
				}
				var rec *decisions.Record
				testwait.NoError(t, 0, "the decision record of "+env.ID, func() (err error) {
					rec, err = h.records.Get(context.Background(), env.ID)
					return err
				})
				if rec.Reason != s.reason {
					t.Fatalf("step %d (%s %q): reason %q, want %q", i, s.id, s.text, rec.Reason, s.reason)
				}
			}
		})
	}
	// The map lives in a TTL bucket.
	b := bustest.Open(t, nil)
	_, threads, err := OpenState(context.Background(), b.JS, StateConfig{ProgressBucket: "p", ThreadBucket: "th", ThreadTTL: 36 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st, err := threads.kv.Status(context.Background())
	if err != nil || st.TTL() != 36*time.Hour {
		t.Fatalf("thread bucket ttl %v (%v)", st.TTL(), err)
	}
}

// A reply fetched in the same batch as the comment it answers waits for
// the comment's decision instead of going to the default team.
func TestReplyInTheSameBatchFollowsItsParent(t *testing.T) {
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage"), natsTeam("billing")}}
	b := bustest.Open(t, nil)
	mk := func(id, parent, text string) *message.Envelope {
		env := envelope(text)
		env.Channel, env.Kind, env.SourceID, env.ParentID, env.ThreadID = "facebook", message.KindReply, id, parent, "post"
		env.ID = message.MakeID("facebook", id)
		return env
	}
	// Published before the router starts: one fetch takes them all.
	var envs []*message.Envelope
	envs = append(envs, mk("c1", "post", "to=billing"))
	for i := range 6 {
		envs = append(envs, mk(fmt.Sprintf("r%d", i), "c1", "+1"))
	}
	for _, env := range envs {
		if _, err := b.PublishIngest(context.Background(), env); err != nil {
			t.Fatal(err)
		}
	}
	h := startRouter(t, b, Static(rs), harnessOpts{cfg: func(c *Config) { c.Workers = 8 }})
	h.waitAcked(10 * time.Second)
	if got := teamIDs(t, b, "billing"); len(got) != len(envs) {
		t.Fatalf("billing got %v, want the comment and all %d replies", got, len(envs)-1)
	}
}

func sortTeams(s []string) []string {
	order := map[string]int{"triage": 0, "billing": 1, "privacy": 2, "sales": 3}
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if order[out[j]] < order[out[i]] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// A team removed by a rules reload while its copy is being retried: the
// copy is dead-lettered as unknown_team (nothing lost), the other team's
// copy is not repeated, and a replay routes the item by the new rules.
func TestTeamRemovedByReloadWhileRetrying(t *testing.T) {
	b := bustest.Open(t, nil)
	hk := newHook(t, http.StatusInternalServerError)
	v1 := &fakeRules{version: "v1", teams: []rules.Team{teamOf("a", webhookTarget(hk.url())), natsTeam("b"), natsTeam("triage")}}
	v2 := &fakeRules{version: "v2", teams: []rules.Team{natsTeam("c"), natsTeam("b"), natsTeam("triage")}, rename: map[string]string{"a": "c"}}
	live := newSwap(v1)
	h := startRouter(t, b, live.fn(), harnessOpts{})
	env := envelope("to=a,b")
	h.publish(env)
	testwait.Until(t, 10*time.Second, "a few failed attempts at team a", func() bool {
		total, _, _ := hk.stats()
		return total >= 2
	})
	live.cur.Store(v2)
	h.waitAcked(10 * time.Second)
	list, _ := h.dead.List(context.Background(), DeadQuery{})
	if len(list) != 1 || list[0].Reason != ReasonUnknownTeam || list[0].Team != "a" || !strings.Contains(list[0].Error, "rules version v2") {
		t.Fatalf("dead letters %+v", list)
	}
	if ids := teamIDs(t, b, "b"); len(ids) != 1 {
		t.Fatalf("b holds %d", len(ids))
	}
	if _, err := h.dead.Replay(context.Background(), list[0]); err != nil {
		t.Fatal(err)
	}
	h.waitAcked(10 * time.Second)
	if ids := teamIDs(t, b, "c"); len(ids) != 1 || ids[0] != env.ID {
		t.Fatalf("c holds %v after the replay", ids)
	}
	if ids := teamIDs(t, b, "b"); len(ids) != 1 {
		t.Fatalf("b holds %d after the replay (NATS dedup must hold)", len(ids))
	}
}

func TestRulesReloadTakesEffectForTheNextMessage(t *testing.T) {
	b := bustest.Open(t, nil)
	hk := newHook(t, http.StatusOK)
	v1 := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("billing"), natsTeam("triage")}}
	v2 := &fakeRules{version: "v2", teams: []rules.Team{teamOf("billing", targetspec.Spec{Type: targetspec.NATS}, webhookTarget(hk.url())), natsTeam("triage")}}
	live := newSwap(v1)
	h := startRouter(t, b, live.fn(), harnessOpts{})
	first := envelope("to=billing")
	h.publish(first)
	h.waitAcked(10 * time.Second)
	live.cur.Store(v2)
	second := envelope("to=billing")
	h.publish(second)
	h.waitAcked(10 * time.Second)
	_, requests, _ := hk.stats()
	if len(requests) != 1 || requests[key(second.ID, "billing")] != 1 {
		t.Fatalf("webhook requests %v", requests)
	}
	if ids := teamIDs(t, b, "billing"); len(ids) != 2 {
		t.Fatalf("billing holds %v", ids)
	}
}

func TestNoiseIsAckedAndDeliveredNowhere(t *testing.T) {
	b := bustest.Open(t, nil)
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage")}}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	h.publish(envelope("noise"))
	h.waitAcked(10 * time.Second)
	if ids := teamIDs(t, b, "triage"); len(ids) != 0 || h.metrics.count("noise") != 1 {
		t.Fatalf("noise delivered to %v; counted %d", ids, h.metrics.count("noise"))
	}
}

func TestCheckReportsUnbuildableTargets(t *testing.T) {
	rt := New(Config{}, Deps{Targets: &targets.Factory{NATS: &targets.NATS{}}})
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("billing", targetspec.Spec{Type: targetspec.Redis, Stream: "q"}),
		teamOf("comms", targetspec.Spec{Type: targetspec.Webhook, URL: "http://hooks.example.com/sekret"}),
		natsTeam("triage"),
	}}
	err := rt.Check(rs)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"team billing", "delivery.redis.url is not set", "team comms", "use https"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "sekret") {
		t.Errorf("error leaks the URL: %v", err)
	}
	if err := rt.Check(&fakeRules{version: "v2", teams: []rules.Team{natsTeam("triage")}}); err != nil {
		t.Errorf("good rules: %v", err)
	}
}

// A team whose target cannot be built (no Redis configured) fails
// transiently; its other targets deliver once, and the item is
// dead-lettered after MaxDeliver.
func TestTeamWithUnbuildableTargetRetriesThenDeadLetters(t *testing.T) {
	b := bustest.Open(t, nil)
	hk := newHook(t, http.StatusOK)
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("a", webhookTarget(hk.url()), targetspec.Spec{Type: targetspec.Redis, Stream: "q"}), natsTeam("triage"),
	}}
	h := startRouter(t, b, Static(rs), harnessOpts{cfg: func(c *Config) { c.MaxDeliver = 3 }})
	h.publish(envelope("to=a"))
	h.waitAcked(10 * time.Second)
	list, _ := h.dead.List(context.Background(), DeadQuery{})
	if len(list) != 1 || list[0].Reason != ReasonDeliveryFailed || !strings.Contains(list[0].Error, "delivery.redis.url") {
		t.Fatalf("dead letters %+v", list)
	}
	if total, _, _ := hk.stats(); total != 1 {
		t.Fatalf("the buildable webhook was called %d times, want 1", total)
	}
}

func TestQueueDepthMetrics(t *testing.T) {
	rd := redistest.New(t)
	b := bustest.Open(t, nil)
	stream := rd.Key("q")
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("a", targetspec.Spec{Type: targetspec.NATS}, targetspec.Spec{Type: targetspec.Redis, Stream: stream}), natsTeam("triage"),
	}}
	h := startRouter(t, b, Static(rs), harnessOpts{redis: rd.Client, cfg: func(c *Config) { c.DepthInterval = 20 * time.Millisecond }})
	h.publish(envelope("to=a"), envelope("to=a"), envelope("to=a"))
	h.waitAcked(10 * time.Second)
	testwait.Until(t, 5*time.Second, "queue depth 3 at both targets", func() bool {
		n, _ := h.metrics.gauge("depth/a/nats")
		r, _ := h.metrics.gauge("depth/a/redis:" + stream)
		return n == 3 && r == 3
	})
}

func TestGracefulStopFinishesInFlight(t *testing.T) {
	b := bustest.Open(t, nil)
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage")}}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	for range 50 {
		h.publish(envelope("hello"))
	}
	testwait.Until(t, 10*time.Second, "some items routed", func() bool { return len(teamIDs(t, b, "triage")) > 0 })
	h.stop()
	ci := consumerInfo(t, b)
	if ci.NumAckPending != 0 {
		t.Fatalf("%d messages left unacked after a graceful stop", ci.NumAckPending)
	}
	if got := uint64(len(teamIDs(t, b, "triage"))); got != ci.AckFloor.Stream {
		t.Fatalf("team queue holds %d, router acked through %d", got, ci.AckFloor.Stream)
	}
}

func yamlDur(d time.Duration) yamlfile.Duration { return yamlfile.Duration(d) }

// A team with two targets fails at one: the dead letter records the one
// that accepted, and the replay delivers to the other only.
func TestReplaySkipsTargetsThatAccepted(t *testing.T) {
	b := bustest.Open(t, nil)
	hk := newHook(t, http.StatusBadGateway)
	rs := &fakeRules{version: "v1", teams: []rules.Team{
		teamOf("a", targetspec.Spec{Type: targetspec.NATS}, webhookTarget(hk.url())), natsTeam("triage"),
	}}
	h := startRouter(t, b, Static(rs), harnessOpts{cfg: func(c *Config) { c.MaxDeliver = 2 }})
	env := envelope("to=a")
	h.publish(env)
	h.waitAcked(10 * time.Second)
	list, _ := h.dead.List(context.Background(), DeadQuery{})
	if len(list) != 1 || fmt.Sprint(list[0].Accepted) != "[nats]" {
		t.Fatalf("dead letters %+v", list)
	}
	if n := h.metrics.count("delivered/a/nats"); n != 1 {
		t.Fatalf("nats delivered %d times before the replay", n)
	}
	hk.status.Store(http.StatusOK)
	if _, err := h.dead.Replay(context.Background(), list[0]); err != nil {
		t.Fatal(err)
	}
	h.waitAcked(10 * time.Second)
	if n := h.metrics.count("delivered/a/nats"); n != 1 {
		t.Fatalf("the replay was delivered to the nats target again (%d)", n)
	}
	if _, _, acc := hk.stats(); acc[key(env.ID, "a")] != 1 {
		t.Fatalf("webhook accepted %d", acc[key(env.ID, "a")])
	}
	if ids := teamIDs(t, b, "a"); len(ids) != 1 {
		t.Fatalf("a's queue holds %v", ids)
	}
}

// panicky panics on its first delivery, then accepts.
type panicky struct{ calls atomic.Int32 }

func (p *panicky) Name() string { return "panicky" }
func (p *panicky) ID() string   { return "panicky" }
func (p *panicky) Deliver(context.Context, *message.Routed, []byte) error {
	if p.calls.Add(1) == 1 {
		panic("boom")
	}
	return nil
}

func TestPanicInATargetIsRecoveredAndRetried(t *testing.T) {
	b := bustest.Open(t, nil)
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage")}}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	p := &panicky{}
	h.rt.teams.mu.Lock()
	h.rt.teams.cur = &teamSet{rules: rs, version: "v1", teams: map[string]*team{
		"triage": {name: "triage", targets: []*boundTarget{{Target: p, id: p.ID(), name: p.Name(), br: newBreaker(3, time.Second)}}},
	}}
	h.rt.teams.mu.Unlock()
	h.publish(envelope("hello"))
	h.waitAcked(10 * time.Second)
	if p.calls.Load() != 2 || h.metrics.count("retried/triage/panicky/error") != 1 || h.metrics.count("delivered/triage/panicky") != 1 {
		t.Fatalf("calls %d, retries counted %d, delivered %d", p.calls.Load(), h.metrics.count("retried/triage/panicky/error"), h.metrics.count("delivered/triage/panicky"))
	}
}

// A replay restricted to a team is delivered there even if the rules now
// call the item noise; an item the rules route nowhere is kept, not acked
// into nowhere.
func TestReplayBeatsNoiseAndNoTeamIsDeadLettered(t *testing.T) {
	b := bustest.Open(t, nil)
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("a"), natsTeam("triage")}}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	env := envelope("noise")
	h.publish(env)
	h.waitAcked(10 * time.Second)
	if _, err := h.dead.Replay(context.Background(), DeadEntry{Seq: 99, DeadLetter: DeadLetter{Team: "a", Subject: "switchboard.ingest.web", Envelope: mustJSON(t, env)}}); err != nil {
		t.Fatal(err)
	}
	nowhere := envelope("to=")
	h.publish(nowhere)
	h.waitAcked(10 * time.Second)
	if ids := teamIDs(t, b, "a"); len(ids) != 1 || ids[0] != env.ID {
		t.Fatalf("a holds %v", ids)
	}
	list, _ := h.dead.List(context.Background(), DeadQuery{Reason: ReasonUnknownTeam})
	if len(list) != 1 || list[0].EnvelopeID() != nowhere.ID || !strings.Contains(list[0].Error, "to no team") {
		t.Fatalf("dead letters %+v", list)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A message decided before — redelivered after a crash, whatever the
// server's delivery count says — keeps its first decision: it never
// reaches one team on its first delivery and another on its redelivery.
func TestRedeliveredMessageKeepsItsDecision(t *testing.T) {
	ctx := context.Background()
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage"), natsTeam("sales")}}
	b := bustest.Open(t, nil)
	env := envelope("hello")
	if _, err := b.PublishIngest(ctx, env); err != nil {
		t.Fatal(err)
	}
	_, info := bustest.Stream(ctx, t, b.JS, b.Subjects.IngestStream)
	records, err := decisions.Open(ctx, b.JS, decisions.Config{Stream: b.Subjects.DecisionStream, Subjects: b.Subjects.Decisions(), MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// What the crashed router had decided (and persisted) for this message.
	_, err = records.Update(ctx, env.ID, func(*decisions.Record) (*decisions.Record, error) {
		return &decisions.Record{Seq: info.State.LastSeq, Outcome: decisions.OutcomeRouted, Teams: []string{"sales"},
			Reason: decisions.ReasonConversation, Followed: "web:earlier"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := startRouter(t, b, Static(rs), harnessOpts{})
	h.waitAcked(10 * time.Second)
	if got := teamIDs(t, b, "sales"); len(got) != 1 || got[0] != env.ID {
		t.Fatalf("sales got %v, want the message by its first decision", got)
	}
	if got := teamIDs(t, b, "triage"); len(got) != 0 {
		t.Fatalf("triage got %v: the message was decided again", got)
	}
	items := teamItemsOf(t, b, "sales")
	if items[0].Route.Reason != decisions.ReasonConversation || items[0].Route.Followed != "web:earlier" {
		t.Fatalf("routed item's route %+v, want the first decision's reason", items[0].Route)
	}
	rec, err := records.Get(ctx, env.ID)
	if err != nil || len(rec.Delivery) != 1 || !rec.Delivery[0].OK {
		t.Fatalf("record after delivery %+v (%v)", rec, err)
	}
}
