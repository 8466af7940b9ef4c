// Package bench measures the routing pipeline in-process: a generated
// corpus of customer messages published to an embedded JetStream on a
// temporary directory, routed by the real router to the teams' NATS
// queues, with throughput, ingest-to-queue latency, the cost of one
// classification and the peak heap. "switchboard bench" is its command.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/rules"
)

// publishers is how many goroutines publish concurrently, like several
// connectors polling at once.
const publishers = 4

// Router is the router under test; *router.Router is one.
type Router interface {
	// Run routes until ctx ends, then finishes in-flight work within drain.
	Run(ctx context.Context, drain time.Duration) error
}

// BuildRouter builds the router as the daemon does, on b, for rs, recording
// into metrics; closeDelivery releases what its targets hold.
type BuildRouter func(ctx context.Context, cfg *config.Config, b *bus.Bus, rs router.Ruleset, metrics *telemetry.Metrics, log *zap.Logger) (rt Router, closeDelivery func(), err error)

// Options configure Run.
type Options struct {
	// Router and Delivery are the sections of the configuration the bench
	// uses; everything else is its own (a temporary store, NATS targets
	// only).
	Router   config.Router
	Delivery config.Delivery
	// Rules route the messages; RulesFile names them in the report.
	Rules     *rules.Rules
	RulesFile string
	// Messages is how many messages to publish and route; TextSize the
	// approximate text size of each in bytes.
	Messages, TextSize int
	// Workers overrides Router.Workers when positive.
	Workers int
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Build builds the router.
	Build BuildRouter
	// Log receives the pipeline's warnings; Note hears each team whose
	// redis or webhook targets were replaced by its NATS queue (nil: none).
	Log  *zap.Logger
	Note func(string)
}

// Report is what Run measured.
type Report struct {
	// Messages were published to the ingest stream and acked by the router.
	Messages int `json:"messages"`
	// Routed reached at least one team queue; Noise were acked without
	// delivery (rules said noise); DeadLettered went to the dead-letter stream.
	Routed       int `json:"routed"`
	Noise        int `json:"noise"`
	DeadLettered int `json:"dead_lettered"`
	// TeamCopies counts items in the team queues, per team in Teams.
	TeamCopies int            `json:"team_copies"`
	Teams      map[string]int `json:"teams"`
	// Workers is router.workers in effect.
	Workers int `json:"workers"`
	// AvgTextBytes is the mean generated text size.
	AvgTextBytes int    `json:"avg_text_bytes"`
	RulesFile    string `json:"rules_file"`
	RulesVersion string `json:"rules_version"`
	// ReplacedTargets lists non-NATS targets of the rules that the bench
	// delivered to the team's NATS queue instead.
	ReplacedTargets []string `json:"replaced_targets,omitempty"`
	// WallSeconds runs from the first publish to the router's ack of the last
	// message; Throughput is Messages / WallSeconds.
	WallSeconds float64 `json:"wall_seconds"`
	Throughput  float64 `json:"throughput_msgs_per_sec"`
	// Latency is received_at to the team stream's timestamp, per team copy.
	Latency Latency `json:"ingest_to_queue_ms"`
	// Classify is rules.Classify alone over the same messages, one goroutine.
	Classify ClassifyCost `json:"classify"`
	// PeakHeapBytes is the highest runtime HeapAlloc sampled during the run
	// (the embedded NATS server runs in this process and is included).
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
}

// Run starts an embedded backbone on a temporary directory (removed
// afterwards) and the router, routes o.Messages generated messages,
// measures, and tears everything down again.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Messages < 1 || o.TextSize < 1 || o.Rules == nil || o.Build == nil {
		return nil, errors.New("bench: Messages, TextSize, Rules and Build are required")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	rs, replaced := NATSOnly(o.Rules)
	for _, r := range replaced {
		if o.Note != nil {
			o.Note(r)
		}
	}
	dir, err := os.MkdirTemp("", "switchboard-bench-")
	if err != nil {
		return nil, fmt.Errorf("creating the temporary store directory: %w", err)
	}
	defer os.RemoveAll(dir)

	cfg := config.Default()
	cfg.DataDir = dir
	cfg.NATS.Embedded.Listen = "127.0.0.1:0"
	cfg.NATS.Embedded.StoreDir = filepath.Join(dir, "jetstream")
	cfg.Router = o.Router
	cfg.Router.RulesFile = o.RulesFile
	if o.Workers > 0 {
		cfg.Router.Workers = o.Workers
	}
	cfg.Delivery = o.Delivery
	cfg.Delivery.Redis.URL, cfg.Delivery.Redis.URLFile = "", "" // NATS targets only

	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}

	envs := Corpus(o.Messages, o.TextSize)
	rep := &Report{
		Messages: o.Messages, Workers: cfg.Router.Workers, RulesFile: o.RulesFile, RulesVersion: o.Rules.Version(),
		ReplacedTargets: replaced, Teams: map[string]int{},
	}
	total := 0
	for _, e := range envs {
		total += len(e.Text)
	}
	rep.AvgTextBytes = total / len(envs)

	sampler := StartHeapSampler(50 * time.Millisecond)
	err = pipeline(ctx, &cfg, rs, o.Build, envs, rep, o.Log)
	rep.PeakHeapBytes = sampler.Stop()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (within the timeout of %s)", err, o.Timeout)
		}
		return nil, err
	}
	rep.Classify = MeasureClassify(o.Rules, envs, 200*time.Millisecond)
	return rep, nil
}

// pipeline runs the backbone and the router, publishes envs, waits for
// the router to ack them all and reads the team queues back into rep.
func pipeline(ctx context.Context, cfg *config.Config, rs router.Ruleset, build BuildRouter, envs []*message.Envelope, rep *Report, log *zap.Logger) error {
	b, err := bus.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	metrics, err := telemetry.NewMetrics()
	if err != nil {
		return err
	}
	rt, closeDelivery, err := build(ctx, cfg, b, rs, metrics, log.Named("router"))
	if err != nil {
		return err
	}
	defer closeDelivery()

	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()
	var routerErr error
	routerStopped := make(chan struct{})
	go func() {
		defer close(routerStopped)
		routerErr = rt.Run(routerCtx, 10*time.Second)
	}()
	defer func() {
		stopRouter()
		select {
		case <-routerStopped:
		case <-time.After(15 * time.Second):
			log.Warn("the router did not stop within 15s")
		}
	}()

	start := time.Now()
	if err := publishAll(ctx, b, envs); err != nil {
		return err
	}
	_, info, err := streamInfo(ctx, b, b.Subjects.IngestStream)
	if err != nil {
		return err
	}
	if info.State.Msgs != uint64(len(envs)) {
		return fmt.Errorf("stream %s holds %d messages after publishing %d", b.Subjects.IngestStream, info.State.Msgs, len(envs))
	}
	if err := waitAcked(ctx, b, cfg.Router.Consumer, info.State.LastSeq, routerStopped, &routerErr); err != nil {
		return err
	}
	wall := time.Since(start)
	rep.WallSeconds = wall.Seconds()
	rep.Throughput = float64(len(envs)) / wall.Seconds()

	lat, ids, err := readTeamQueues(ctx, b, rep.Teams)
	if err != nil {
		return err
	}
	rep.Routed = ids
	rep.TeamCopies = len(lat)
	rep.Latency = Quantiles(lat)
	noise, err := metrics.Noise()
	if err != nil {
		return err
	}
	rep.Noise = int(noise)
	_, deadInfo, err := streamInfo(ctx, b, b.Subjects.DeadStream)
	if err != nil {
		return err
	}
	rep.DeadLettered = int(deadInfo.State.Msgs)
	return nil
}

// publishAll publishes envs to the ingest stream from publishers
// goroutines, stamping received_at just before each publish.
func publishAll(ctx context.Context, b *bus.Bus, envs []*message.Envelope) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *message.Envelope)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for env := range next {
				env.ReceivedAt = time.Now().UTC()
				dup, err := b.PublishIngest(ctx, env)
				if err == nil && dup {
					err = fmt.Errorf("publishing %s: the ingest stream already held it", env.ID)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
feed:
	for _, env := range envs {
		select {
		case next <- env:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publishing to the ingest stream: %w", err)
	}
	return nil
}

// waitAcked polls the router's consumer until its ack floor reaches last,
// the router stops or ctx ends.
func waitAcked(ctx context.Context, b *bus.Bus, consumer string, last uint64, routerStopped <-chan struct{}, routerErr *error) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var acked uint64
	for {
		if c, err := b.JS.Consumer(ctx, b.Subjects.IngestStream, consumer); err == nil {
			if ci, err := c.Info(ctx); err == nil {
				acked = ci.AckFloor.Stream
				if acked >= last {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the router: it acked %d of %d messages: %w", acked, last, ctx.Err())
		case <-routerStopped:
			return fmt.Errorf("the router stopped after acking %d of %d messages: %v", acked, last, *routerErr)
		case <-tick.C:
		}
	}
}

// streamInfo looks up the stream name on b and reads its info; the
// stream is returned for reading it further.
func streamInfo(ctx context.Context, b *bus.Bus, name string) (jetstream.Stream, *jetstream.StreamInfo, error) {
	stream, err := b.JS.Stream(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("looking up stream %s: %w", name, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading stream %s: %w", name, err)
	}
	return stream, info, nil
}

// readTeamQueues reads every item of the team stream and returns, per
// item, the time from received_at to the stream's timestamp; it counts
// items per team into teams and returns how many distinct envelopes arrived.
func readTeamQueues(ctx context.Context, b *bus.Bus, teams map[string]int) (lat []time.Duration, distinct int, err error) {
	name := b.Subjects.TeamStream
	stream, info, err := streamInfo(ctx, b, name)
	if err != nil {
		return nil, 0, err
	}
	want := int(info.State.Msgs)
	if want == 0 {
		return nil, 0, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
	}
	ids := make(map[string]struct{}, want)
	lat = make([]time.Duration, 0, want)
	for len(lat) < want {
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("reading stream %s: got %d of %d items: %w", name, len(lat), want, err)
		}
		batch, err := cons.Fetch(min(1000, want-len(lat)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
		}
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
			}
			var item struct {
				ID         string    `json:"id"`
				Team       string    `json:"team"`
				ReceivedAt time.Time `json:"received_at"`
			}
			if err := json.Unmarshal(m.Data(), &item); err != nil {
				return nil, 0, fmt.Errorf("stream %s sequence %d: decoding the routed item: %w", name, meta.Sequence.Stream, err)
			}
			lat = append(lat, meta.Timestamp.Sub(item.ReceivedAt))
			ids[item.ID] = struct{}{}
			teams[item.Team]++
		}
		if err := batch.Error(); err != nil {
			return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
		}
	}
	return lat, len(ids), nil
}
