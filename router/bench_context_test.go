package router

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

// Customers and open cases the context benchmark starts with.
const (
	benchCustomers = 10_000
	benchOpenCases = 1_000
)

// contextFixture is a backbone with the router's state, prepared once per
// variant and reused by every run of the benchmark.
type contextFixture struct {
	b       *bus.Bus
	records *decisions.Store
	custs   *customer.Store
	cases   *cases.Store
	run     int
}

func customerEnv(i, seq int, text string) *message.Envelope {
	now := time.Now().UTC()
	id := fmt.Sprintf("c%d-%d", i, seq)
	return &message.Envelope{Version: 1, ID: "web:" + id, Channel: "web", Kind: message.KindWeb, SourceID: id, Text: text,
		Author: message.Author{Name: fmt.Sprintf("Asiakas %d", i), Email: fmt.Sprintf("asiakas%d@example.fi", i)}, CreatedAt: now, ReceivedAt: now}
}

// BenchmarkRouteContext measures what deciding with context costs per
// routed message, in one run: the bare router; with decision records
// (the decision recorded before delivery, the outcome after: issue 16);
// and with records, customer identity and cases at 10,000 known customers
// and 1,000 open cases (issue 13's budget: at most twice the routing time
// without identity and case lookups). Every message comes from a known
// customer. docs/BENCHMARKS.md has numbers and the command.
func BenchmarkRouteContext(b *testing.B) {
	variants := []struct {
		name               string
		records, customers bool
	}{
		{"bare", false, false},
		{"records", true, false},
		{"records+customers+cases", true, true},
	}
	outer := b // the fixture lives as long as the whole benchmark, across its runs
	for _, v := range variants {
		var fx *contextFixture
		b.Run(v.name, func(b *testing.B) {
			ctx := context.Background()
			if fx == nil {
				fx = prepareContext(outliving{TB: b, owner: outer}, v.records, v.customers)
			}
			fx.run++
			bs := fx.b
			// Only this run's messages: the stream is emptied, the consumer new.
			st, err := bs.JS.Stream(ctx, bs.Subjects.IngestStream)
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Purge(ctx); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if _, err := bs.PublishIngest(ctx, customerEnv(i%benchCustomers, fx.run*1_000_000+i, "to=billing tilaus")); err != nil {
					b.Fatal(err)
				}
			}
			info, err := st.Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			last := info.State.LastSeq
			progress, threads, err := OpenState(ctx, bs.JS, StateConfig{ProgressBucket: "p", ThreadBucket: "t", ThreadTTL: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			consumer := fmt.Sprintf("router-%d", fx.run)
			deps := Deps{JS: bs.JS, Rules: Static(&fakeRules{version: "v1", teams: []rules.Team{natsTeam("billing"), natsTeam("triage")}}),
				Targets:  &targets.Factory{NATS: targets.NewNATS(bs.JS, bs.Subjects.TeamStream, bs.Subjects.Team)},
				Dead:     NewDeadLetters(bs.JS, bs.Subjects.DeadStream, bs.Subjects.IngestStream, bs.Subjects.Dead),
				Progress: progress, Threads: threads, Log: bustest.Logger(b)}
			if fx.records != nil {
				deps.Records = fx.records
			}
			if fx.custs != nil {
				deps.Customers, deps.Cases = cases.Linker{Customers: fx.custs, Cases: fx.cases}, fx.cases
			}
			rt := New(Config{Stream: bs.Subjects.IngestStream, FilterSubject: bs.Subjects.AllIngest(), Consumer: consumer,
				AckWait: 30 * time.Second, Workers: 8, MaxDeliver: 10}, deps)
			b.ResetTimer()
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- rt.Run(runCtx, 10*time.Second) }()
			testwait.NoError(b, 5*time.Minute, "the router to ack every message", func() error {
				c, err := bs.JS.Consumer(ctx, bs.Subjects.IngestStream, consumer)
				if err != nil {
					return err
				}
				ci, err := c.Info(ctx)
				if err == nil && ci.AckFloor.Stream < last {
					err = fmt.Errorf("acked up to %d of %d", ci.AckFloor.Stream, last)
				}
				return err
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			stop()
			<-done
		})
	}
}

// prepareContext starts a backbone and, as asked, the decision records and
// the customer store with benchCustomers customers, benchOpenCases of them
// with an open case.
// outliving reports failures on the running benchmark (they stop that run)
// but ties temporary directories, cleanups and logs to owner, so that what
// is made with it outlives the run.
type outliving struct {
	testing.TB
	owner testing.TB
}

func (o outliving) Cleanup(f func())                { o.owner.Cleanup(f) }
func (o outliving) TempDir() string                 { return o.owner.TempDir() }
func (o outliving) Logf(format string, args ...any) { o.owner.Logf(format, args...) }

func prepareContext(b testing.TB, records, customers bool) *contextFixture {
	b.Helper()
	ctx := context.Background()
	fx := &contextFixture{b: bustest.Open(b, nil)}
	if records {
		s, err := decisions.Open(ctx, fx.b.JS, decisions.Config{Stream: fx.b.Subjects.DecisionStream, Subjects: fx.b.Subjects.Decisions(), MaxAge: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		fx.records = s
	}
	if !customers {
		return fx
	}
	custs, err := customer.Open(ctx, fx.b.JS, customer.Config{Identity: identity.Config{Patterns: map[string]string{"order": `\b11\d{5}\b`}},
		MaxBytes: 256 << 20, RecentItems: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = custs.Close(context.Background()) })
	cs, err := cases.Open(ctx, fx.b.JS, cases.Config{Bucket: "bench_cases", Window: 2 * time.Hour, TTL: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	fx.custs, fx.cases = custs, cs
	now := time.Now().UTC()
	for i := range benchCustomers {
		res, err := custs.Observe(ctx, customerEnv(i, 0, "hei"))
		if err != nil || res.Customer == nil {
			b.Fatalf("customer %d: %v", i, err)
		}
		if i < benchOpenCases {
			if _, err := cs.Add(ctx, res.Customer.ID, "billing", fmt.Sprintf("web:c%d-0", i), nil, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	return fx
}
