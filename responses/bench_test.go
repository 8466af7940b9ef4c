package responses

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

// benchRules routes everything to billing's NATS queue (rule matching is
// measured in rules/).
type benchRules struct{}

func (benchRules) Version() string { return "bench" }
func (benchRules) Teams() []rules.Team {
	return []rules.Team{{Name: "billing", Targets: []targetspec.Spec{{Type: targetspec.NATS}}}}
}
func (benchRules) Classify(*message.Envelope) rules.Decision {
	return rules.Decision{Teams: []string{"billing"}, Priority: "normal", Version: "bench"}
}

// preOpen is how many items await a response when the measured items
// arrive.
const preOpen = 100_000

// BenchmarkTrackingOverhead measures what tracking responses adds to
// routing. Each iteration routes b.N items twice on fresh embedded
// servers, timing each pass from start to the last ack:
//
//   - route: the router routes the items to a NATS team queue while the
//     decision records are written as the router writes them (two changes
//     per item: routed, delivered) and a connector publishes a response to
//     every second item; the records stream already holds those of
//     preOpen earlier, unanswered items;
//   - route+track: the same with the tracker running, with preOpen items
//     already open, until it has opened every item and matched every
//     response.
//
// It reports both times per item, their ratio, in wall time and in CPU
// time of the process (the in-process NATS server included), the router
// alone for reference, and how long rebuilding the open set of preOpen
// items from the records took at start (BenchmarkOpenSet measures its
// memory).
// docs/BENCHMARKS.md has numbers.
func BenchmarkTrackingOverhead(b *testing.B) {
	ctx := context.Background()
	routerOnly, _, _ := pass(b, ctx, passRouterOnly)
	routeTime, routeCPU, routeAlloc := pass(b, ctx, passRoute)
	trackTime, trackCPU, trackAlloc := pass(b, ctx, passTrack)
	n := float64(b.N)
	b.ReportMetric(float64(routerOnly.Nanoseconds())/n, "router-only-ns/item")
	b.ReportMetric(float64(routeTime.Nanoseconds())/n, "route-ns/item")
	b.ReportMetric(float64(trackTime.Nanoseconds())/n, "route+track-ns/item")
	b.ReportMetric(float64(trackTime)/float64(routeTime), "ratio")
	b.ReportMetric(float64(routeCPU.Nanoseconds())/n, "route-cpu-ns/item")
	b.ReportMetric(float64(trackCPU.Nanoseconds())/n, "route+track-cpu-ns/item")
	b.ReportMetric(float64(trackCPU)/float64(routeCPU), "cpu-ratio")
	b.ReportMetric(float64(routeAlloc)/n/1024, "route-alloc-KiB/item")
	b.ReportMetric(float64(trackAlloc)/n/1024, "route+track-alloc-KiB/item")
}

// allocated is how many bytes the process has allocated so far.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// cpuTime is the CPU time the process (the in-process NATS server
// included) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// What a pass runs.
const (
	// passRouterOnly: the router alone, no decision records, no responses
	// (BenchmarkRoute's case, for reference).
	passRouterOnly = iota
	// passRoute: the router with decision records and responses.
	passRoute
	// passTrack: passRoute with the tracker.
	passTrack
)

// pass routes b.N items once and returns how long it took, in wall time
// and in CPU time, and how many bytes were allocated meanwhile.
func pass(b *testing.B, ctx context.Context, mode int) (wall, cpu time.Duration, alloc uint64) {
	track := mode == passTrack
	b.StopTimer()
	cfg := bustest.Config(b)
	bs := bustest.Open(b, cfg)
	records, err := decisions.Open(ctx, bs.JS, decisions.Config{Stream: "SWITCHBOARD_DECISIONS", Subjects: "switchboard.decision", MaxAge: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	subjects := Subjects{Prefix: "switchboard", ResponseStream: "SWITCHBOARD_RESPONSES", EscalationStream: "SWITCHBOARD_ESCALATIONS", Bucket: "switchboard_escalated"}
	streams, err := Open(ctx, bs.JS, Config{Subjects: subjects, MaxAge: 30 * 24 * time.Hour, ForgetAfter: 14 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	envs := make([]*message.Envelope, b.N)
	for i := range envs {
		id := fmt.Sprintf("m%d", i)
		envs[i] = &message.Envelope{Version: 1, ID: "facebook:" + id, Channel: "facebook", Kind: message.KindComment, SourceID: id,
			Text: "Laskussani on kaksi kertaa sama tilaus, kenelle voin soittaa?", CreatedAt: now, ReceivedAt: now}
		if _, err := bs.PublishIngest(ctx, envs[i]); err != nil {
			b.Fatal(err)
		}
	}

	// The records of preOpen earlier items are in the stream either way:
	// what differs between the passes is the tracker alone.
	if mode != passRouterOnly {
		preload(b, ctx, bs, records, now)
	}
	var tr *Tracker
	stopTracker := func() {}
	if track {
		tr = benchTracker(b, bs, streams, records)
		loadStart := time.Now()
		trCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- tr.Run(trCtx) }()
		var once sync.Once
		stopTracker = func() { once.Do(func() { cancel(); <-done }) }
		defer stopTracker()
		<-tr.Ready()
		b.ReportMetric(time.Since(loadStart).Seconds(), "replay-100k-s")
		if tr.Open() != preOpen {
			b.Fatalf("%d items open after loading, want %d", tr.Open(), preOpen)
		}
	}

	rt := router.New(router.Config{Stream: bs.Subjects.IngestStream, FilterSubject: "switchboard.ingest.>", Consumer: "router",
		AckWait: 30 * time.Second, Workers: 8, MaxDeliver: 10}, router.Deps{JS: bs.JS, Rules: router.Static(benchRules{}),
		Targets: &targets.Factory{NATS: targets.NewNATS(bs.JS, bs.Subjects.TeamStream, bs.Subjects.Team)},
		Dead:    router.NewDeadLetters(bs.JS, bs.Subjects.DeadStream, bs.Subjects.IngestStream, bs.Subjects.Dead),
		Log:     bustest.Logger(b)})
	pub := NewPublisher(bs.JS, subjects)

	// Setup garbage (the ingest backlog, loading the open set) is not
	// what the pass measures.
	runtime.GC()
	b.StartTimer()
	start, startCPU, startAlloc := time.Now(), cpuTime(), allocated()
	runCtx, stopRouter := context.WithCancel(ctx)
	routed := make(chan error, 1)
	go func() { routed <- rt.Run(runCtx, 10*time.Second) }()
	if mode != passRouterOnly {
		writeRecords(b, ctx, records, pub, envs)
	}
	waitUntil(b, "the router to ack every item", func() bool {
		c, err := bs.JS.Consumer(ctx, bs.Subjects.IngestStream, "router")
		if err != nil {
			return false
		}
		ci, err := c.Info(ctx)
		return err == nil && ci.AckFloor.Stream >= uint64(b.N)
	})
	routedIn := time.Since(start)
	if track {
		waitUntil(b, "the tracker to catch up", func() bool {
			return tr.pendingLate() == 0 && drained(ctx, bs, subjects.ResponseStream, "responses-responses")
		})
	}
	took, tookCPU, tookAlloc := time.Since(start), cpuTime()-startCPU, allocated()-startAlloc
	b.StopTimer()
	if track {
		b.ReportMetric(float64((took-routedIn).Nanoseconds())/float64(b.N), "catch-up-ns/item")
	}
	stopRouter()
	<-routed
	if track {
		// Every second item was answered; the rest joined the open set.
		if want := preOpen + b.N - (b.N+1)/2; tr.Open() != want {
			b.Fatalf("%d items open, want %d", tr.Open(), want)
		}
		stopTracker()
	}
	return took, tookCPU, tookAlloc
}

// writeRecords writes the decision records of envs as the router does
// (eight workers, two changes per item) and publishes a response to every
// second item once its record is written, as a connector would.
func writeRecords(b *testing.B, ctx context.Context, records *decisions.Store, pub *Publisher, envs []*message.Envelope) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(envs) {
					return
				}
				env := envs[i]
				at := time.Now().UTC()
				for _, kind := range []string{decisions.EventRouted, decisions.EventDelivered} {
					if _, err := records.Update(ctx, env.ID, func(r *decisions.Record) (*decisions.Record, error) {
						if r == nil {
							r = &decisions.Record{Kind: string(env.Kind), Snippet: decisions.Snippet("", env.Text), CreatedAt: env.CreatedAt,
								ReceivedAt: env.ReceivedAt, RoutedAt: at, Outcome: decisions.OutcomeRouted, Teams: []string{"billing"},
								Reason: decisions.ReasonText, Priority: "normal", Conversation: env.ID, RulesVersion: "bench"}
						}
						r.UpdatedAt = at
						r.AddEvent(decisions.Event{At: at, Kind: kind, Teams: r.Teams})
						return r, nil
					}); err != nil {
						b.Error(err)
						return
					}
				}
				if i%2 == 0 {
					if _, err := pub.Publish(ctx, &message.Response{ID: "facebook:r" + env.SourceID, Channel: "facebook", Kind: "reply",
						SourceID: "r" + env.SourceID, InReplyTo: env.ID, By: "page:1", At: at.Add(time.Minute)}); err != nil {
						b.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// preload stores the decision records of preOpen routed, unanswered
// items, written in the last hour (none due during the run), as the
// router stores them.
func preload(b *testing.B, ctx context.Context, bs *bus.Bus, records *decisions.Store, now time.Time) {
	for i := range preOpen {
		id := fmt.Sprintf("facebook:old%d", i)
		at := now.Add(-time.Duration(i) * 30 * time.Millisecond)
		rec := decisions.Record{V: decisions.RecordVersion, ID: id, Channel: "facebook", Kind: "comment",
			Snippet: "Laskussani on kaksi kertaa sama tilaus, kenelle voin soittaa?", CreatedAt: at, ReceivedAt: at, RoutedAt: at, UpdatedAt: at,
			Outcome: decisions.OutcomeRouted, Teams: []string{"billing"}, Reason: decisions.ReasonText, Priority: "normal", Conversation: id,
			History: []decisions.Event{{At: at, Kind: decisions.EventRouted, Teams: []string{"billing"}}, {At: at, Kind: decisions.EventDelivered, Teams: []string{"billing"}}}}
		data, err := json.Marshal(rec)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bs.JS.PublishAsync(records.Subject("facebook", id), data); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 || i == preOpen-1 {
			select {
			case <-bs.JS.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Fatal("preloading the records stalled")
			}
		}
	}
}

func benchTracker(b *testing.B, bs *bus.Bus, streams *Streams, records *decisions.Store) *Tracker {
	c := config.Default()
	c.Responses.ServiceLevels.Default.Targets = map[string]yamlfile.Duration{"public": yamlfile.Duration(time.Hour), "private": yamlfile.Duration(4 * time.Hour)}
	c.Responses.Escalation.Levels = []float64{1, 2}
	policy, err := sla.New(c.Responses)
	if err != nil {
		b.Fatal(err)
	}
	return New(TrackerConfig{CheckInterval: time.Hour}, Deps{JS: bs.JS, Streams: streams, Records: records, Policy: policy, Log: bustest.Logger(b)})
}

// drained reports whether consumer has handled everything in stream.
func drained(ctx context.Context, bs *bus.Bus, stream, consumer string) bool {
	c, err := bs.JS.Consumer(ctx, stream, consumer)
	if err != nil {
		return false
	}
	ci, err := c.Info(ctx)
	return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0
}

// waitUntil polls cond; a benchmark has no testwait.
func waitUntil(b *testing.B, what string, cond func() bool) {
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// pendingLate is how many late answers wait to be written.
func (t *Tracker) pendingLate() int {
	t.lateMu.Lock()
	defer t.lateMu.Unlock()
	return len(t.late)
}
