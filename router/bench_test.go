package router

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/redistest"
	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

// BenchmarkRoute measures routing throughput from the ingest stream to team
// queues on an embedded NATS server: b.N envelopes are stored first, then
// the router routes and acks all of them. docs/BENCHMARKS.md has numbers.
func BenchmarkRoute(b *testing.B) {
	cases := []struct {
		name    string
		workers int
		text    string
		redis   bool
	}{
		{"nats/workers=1", 1, "to=billing", false},
		{"nats/workers=8", 8, "to=billing", false},
		{"nats/fanout=2/workers=8", 8, "to=billing,sales", false},
		{"nats+redis/workers=8", 8, "to=billing", true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			bs := bustest.Open(b, nil)
			billing := rules.Team{Name: "billing", Targets: []targetspec.Spec{{Type: targetspec.NATS}}}
			var rc targets.RedisClient
			if c.redis {
				rd := redistest.New(b)
				rc = rd.Client
				billing.Targets = append(billing.Targets, targetspec.Spec{Type: targetspec.Redis, Stream: rd.Key("billing")})
			}
			rs := &fakeRules{version: "v1", teams: []rules.Team{billing, natsTeam("sales"), natsTeam("triage")}}
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				env := envelope(c.text + fmt.Sprintf(" item %d", i))
				if _, err := bs.PublishIngest(ctx, env); err != nil {
					b.Fatal(err)
				}
			}
			progress, threads, err := OpenState(ctx, bs.JS, StateConfig{ProgressBucket: "p", ThreadBucket: "t", ThreadTTL: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			cfg := Config{Stream: bs.Subjects.IngestStream, FilterSubject: bs.Subjects.AllIngest(), Consumer: "router",
				AckWait: 30 * time.Second, Workers: c.workers, MaxDeliver: 10}
			rt := New(cfg, Deps{JS: bs.JS, Rules: Static(rs),
				Targets:  &targets.Factory{NATS: targets.NewNATS(bs.JS, bs.Subjects.TeamStream, bs.Subjects.Team), Redis: rc},
				Dead:     NewDeadLetters(bs.JS, bs.Subjects.DeadStream, bs.Subjects.IngestStream, bs.Subjects.Dead),
				Progress: progress, Threads: threads, Log: bustest.Logger(b)})
			b.ResetTimer()
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- rt.Run(runCtx, 10*time.Second) }()
			testwait.NoError(b, time.Minute, "the router to ack every message", func() error {
				c, err := bs.JS.Consumer(ctx, bs.Subjects.IngestStream, "router")
				if err != nil {
					return err
				}
				ci, err := c.Info(ctx)
				if err == nil && ci.AckFloor.Stream < uint64(b.N) {
					err = fmt.Errorf("acked up to %d of %d", ci.AckFloor.Stream, b.N)
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
