package responses_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/metrictest"
	"github.com/switchboard/switchboard/internal/testclock"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/conversation"
	"github.com/switchboard/switchboard/router/decisions"
)

// defaultPolicy is the example: public 1h, Messenger/DM 4h, email
// 24h around the clock; billing counts 8h on office hours.
const defaultPolicy = `
connectors:
  intake:
    enabled: false
responses:
  calendars:
    office: {days: [mon, tue, wed, thu, fri], open: "08:00", close: "16:00"}
  service_levels:
    default:
      targets: {public: 1h, private: 4h, email: 24h}
      priority: {high: 0.5}
    teams:
      billing:
        calendar: office
        targets: {email: 8h}
  escalation:
    levels: [1, 2]
`

// harness runs a tracker on an embedded NATS server, with the decision
// records written the way the router writes them and responses published
// the way connectors publish them.
type harness struct {
	t        *testing.T
	cfg      *config.Config
	bus      *bus.Bus
	records  *decisions.Store
	streams  *responses.Streams
	pub      *responses.Publisher
	policy   *sla.Policy
	clock    *testclock.Clock
	reg      *prometheus.Registry
	metrics  *responses.Metrics
	tracker  *responses.Tracker
	tcfg     responses.TrackerConfig
	cases    responses.CaseCloser
	stop     func()
	subjects responses.Subjects
}

func newHarness(t *testing.T, policyYAML string, start time.Time) *harness {
	t.Helper()
	cfg := bustest.Config(t)
	parsed, err := config.Parse("c.yaml", []byte(policyYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Responses = parsed.Responses
	policy, err := sla.New(cfg.Responses)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := responses.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, cfg: cfg, policy: policy, clock: testclock.New(start), reg: reg, metrics: m,
		subjects: responses.Subjects{Prefix: "switchboard", ResponseStream: cfg.Responses.Stream,
			EscalationStream: cfg.Responses.EscalationStream, Bucket: cfg.Responses.Bucket},
		tcfg: responses.TrackerConfig{
			MatchWindow: time.Duration(cfg.Responses.MatchWindow), ForgetAfter: time.Duration(cfg.Responses.ForgetAfter),
			// Checks run when the test says (CheckNow), not on a timer.
			CheckInterval: time.Hour, LinkBase: "https://switchboard.example.com",
		}}
	h.openBus()
	return h
}

// openBus (re)starts the embedded server on the same store and opens the
// streams.
func (h *harness) openBus() {
	t := h.t
	ctx := context.Background()
	h.bus = bustest.Open(t, h.cfg)
	var err error
	h.records, err = decisions.Open(ctx, h.bus.JS, decisions.Config{Stream: "SWITCHBOARD_DECISIONS", Subjects: "switchboard.decision", MaxAge: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h.streams, err = responses.Open(ctx, h.bus.JS, responses.Config{Subjects: h.subjects,
		MaxAge: time.Duration(h.cfg.Responses.MaxAge), ForgetAfter: time.Duration(h.cfg.Responses.ForgetAfter)})
	if err != nil {
		t.Fatal(err)
	}
	h.pub = responses.NewPublisher(h.bus.JS, h.subjects)
}

// start runs a tracker until the test ends or stopTracker.
func (h *harness) start() {
	t := h.t
	h.tracker = responses.New(h.tcfg, responses.Deps{JS: h.bus.JS, Streams: h.streams, Records: h.records,
		Policy: h.policy, Cases: h.cases, Metrics: h.metrics, Log: bustest.Logger(t), Now: h.clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.tracker.Run(ctx) }()
	h.stop = func() {
		cancel()
		if err := testwait.Receive(t, 0, "the tracker to stop", done); err != nil {
			t.Errorf("tracker: %v", err)
		}
		h.stop = nil
	}
	t.Cleanup(func() {
		if h.stop != nil {
			h.stop()
		}
	})
	select {
	case <-h.tracker.Ready():
	case err := <-done:
		t.Fatalf("tracker stopped at start: %v", err)
	case <-time.After(testwait.DefaultTimeout):
		t.Fatal("tracker not ready")
	}
}

// restart stops the tracker and the NATS server, then starts both again
// from what JetStream stored: a daemon restart.
func (h *harness) restart() {
	h.stop()
	h.bus.Close()
	h.openBus()
	h.start()
}

// startHarness is newHarness with defaultPolicy, started.
func startHarness(t *testing.T, start time.Time) *harness {
	t.Helper()
	h := newHarness(t, defaultPolicy, start)
	h.start()
	return h
}

// routeAt sets the clock to at and routes env there (see route).
func (h *harness) routeAt(at time.Time, env *message.Envelope, parent *decisions.Record, priority string, teams ...string) *decisions.Record {
	h.t.Helper()
	h.clock.Set(at)
	return h.route(env, parent, priority, teams...)
}

// route stores the decision record the router writes for env routed to
// teams at the clock's time. parent is the routed item env answers (nil:
// none).
func (h *harness) route(env *message.Envelope, parent *decisions.Record, priority string, teams ...string) *decisions.Record {
	h.t.Helper()
	in := conversation.Input{Env: env, Decided: true, Teams: teams}
	if parent != nil {
		in.Parent = &conversation.Prior{ID: parent.ID, Teams: parent.Teams, Conversation: parent.Conversation}
	}
	res := conversation.Resolve(in)
	now := h.clock.Now()
	rec, err := h.records.Update(context.Background(), env.ID, func(*decisions.Record) (*decisions.Record, error) {
		r := &decisions.Record{
			ThreadID: env.ThreadID, ParentID: env.ParentID, Kind: string(env.Kind), Author: env.Author.Name,
			Snippet: decisions.Snippet(env.Subject, env.Text), CreatedAt: env.CreatedAt, ReceivedAt: env.ReceivedAt,
			RoutedAt: now, UpdatedAt: now, Outcome: decisions.OutcomeRouted, Teams: res.Teams, Reason: res.Reason,
			Priority: priority, Conversation: res.Conversation,
		}
		r.AddEvent(decisions.Event{At: now, Kind: decisions.EventRouted, Teams: res.Teams})
		return r, nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	// The router changes the record again once the targets accepted.
	if _, err := h.records.Update(context.Background(), env.ID, func(r *decisions.Record) (*decisions.Record, error) {
		r.AddEvent(decisions.Event{At: now, Kind: decisions.EventDelivered, Teams: r.Teams})
		return r, nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return rec
}

// respond publishes r as a connector does.
func (h *harness) respond(r *message.Response) {
	h.t.Helper()
	if _, err := h.pub.Publish(context.Background(), r); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) record(id string) *decisions.Record {
	h.t.Helper()
	rec, err := h.records.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return rec
}

// answered waits until id's record holds a response and returns it.
func (h *harness) answered(id string) *decisions.Response {
	h.t.Helper()
	var got *decisions.Response
	testwait.Until(h.t, 0, id+" to be answered", func() bool {
		rec, err := h.records.Get(context.Background(), id)
		if err == nil && rec.Response != nil {
			got = rec.Response
		}
		return got != nil
	})
	return got
}

// waitOpen waits until the tracker awaits a response for n items.
func (h *harness) waitOpen(n int) {
	h.t.Helper()
	testwait.Until(h.t, 0, "open items to be "+itoa(n), func() bool { return h.tracker.Open() == n })
}

// escalations returns every escalation stored.
func (h *harness) escalations() []responses.Escalation {
	h.t.Helper()
	ctx := context.Background()
	s, err := h.bus.JS.Stream(ctx, h.subjects.EscalationStream)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []responses.Escalation
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			h.t.Fatal(err)
		}
		var e responses.Escalation
		if err := json.Unmarshal(m.Data, &e); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// envelope returns a customer's item written at created and ingested a
// few seconds later.
func envelope(channel string, kind message.Kind, sourceID, thread, parent, text string, created time.Time) *message.Envelope {
	return &message.Envelope{Version: 1, ID: message.MakeID(channel, sourceID), Channel: channel, Kind: kind, SourceID: sourceID,
		ThreadID: thread, ParentID: parent, Author: message.Author{Name: "Maija Meikäläinen"}, Text: text,
		CreatedAt: created, ReceivedAt: created.Add(30 * time.Second)}
}

// metric returns the value of the counter or gauge name with the label
// pairs given (0 when there is none).
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	return metrictest.Value(h.t, h.reg, name, metrictest.Labels(labels...))
}

// pendingResponses is how many responses the tracker has not acked yet.
func (h *harness) pendingResponses() int {
	h.t.Helper()
	c, err := h.bus.JS.Consumer(context.Background(), h.subjects.ResponseStream, "responses-responses")
	if err != nil {
		return -1
	}
	info, err := c.Info(context.Background())
	if err != nil {
		return -1
	}
	return int(info.NumPending) + info.NumAckPending
}

// waitFor waits until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.Until(t, 0, what, cond)
}
