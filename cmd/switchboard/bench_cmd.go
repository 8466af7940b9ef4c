package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/internal/bench"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/rules"
)

const benchUsage = `usage: switchboard bench [-n N] [-size B] [-workers W] [-rules FILE] [-config FILE]
                        [-context none,records,full] [-timeout D] [-json]

Measure the real pipeline in-process: an embedded NATS JetStream server on a
temporary directory and a random port, the router built as "run" builds it,
and N generated Finnish and English messages (billing, logistics, product,
general questions) published to the ingest stream. Reports throughput,
ingest-to-queue latency, the cost of rules.Classify alone and peak heap.
Nothing outside the process is touched; the temporary directory is removed.

-context runs the pipeline once per variant, each on a fresh store, and
reports each one's throughput next to the first's: none (rules and delivery
only), records (plus a decision record per item) and full (plus customers
and cases, as the daemon runs by default).

Only router.rules_file and the router, delivery and customers sections of
the config are used. Teams are delivered to their NATS queues only: redis and webhook
targets in the rules are replaced by the team's NATS queue (reported).`

// benchCmd implements "switchboard bench": it parses the flags, loads the
// configuration and the rules, runs internal/bench with the router built
// as "run" builds it, and prints the report.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard bench", benchUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (only router.rules_file, router and delivery are used)")
	rulesPath := fs.String("rules", "", "rules file (default: router.rules_file of -config)")
	n := fs.Int("n", 20000, "messages to publish and route")
	size := fs.Int("size", 300, "approximate text size in bytes")
	workers := fs.Int("workers", 0, "override router.workers")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up when the run takes longer")
	variants := fs.String("context", "full", "comma-separated variants to run and compare: none, records, full")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	switch {
	case *n < 1:
		return fs.Usagef("-n must be at least 1, got %d", *n)
	case *size < 1:
		return fs.Usagef("-size must be at least 1, got %d", *size)
	case *workers < 0:
		return fs.Usagef("-workers must not be negative, got %d", *workers)
	case *timeout <= 0:
		return fs.Usagef("-timeout must be positive, got %s", *timeout)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fs.Failf("%v (bench uses only router.rules_file and the router and delivery sections; pass -config FILE)", err)
	}
	if *rulesPath == "" {
		*rulesPath = cfg.Router.RulesFile
	}
	rs, err := rules.Load(*rulesPath)
	if err != nil {
		return fs.Failf("loading rules: %v", err)
	}
	log, err := telemetry.NewLogger("console", "warn", stderr)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer func() { _ = log.Sync() }()
	var names []string
	for _, v := range strings.Split(*variants, ",") {
		v = strings.TrimSpace(v)
		if v != "none" && v != "records" && v != "full" {
			return fs.Usagef("-context %q: use none, records or full, comma-separated", v)
		}
		names = append(names, v)
	}
	var reps []benchVariant
	for i, v := range names {
		rep, err := bench.Run(ctx, bench.Options{
			Router: cfg.Router, Delivery: cfg.Delivery, Rules: rs, RulesFile: *rulesPath,
			Messages: *n, TextSize: *size, Workers: *workers, Timeout: *timeout,
			Build: benchRouter(cfg, v), Log: log.Named("bench"),
			Note: func(s string) {
				if i == 0 {
					fmt.Fprintf(stderr, "switchboard bench: note: %s delivers to its NATS queue in this bench\n", s)
				}
			},
		})
		if err != nil {
			return fs.Failf("%s: %v", v, err)
		}
		reps = append(reps, benchVariant{Context: v, Report: rep})
	}
	if *asJSON {
		if len(reps) == 1 {
			return printJSON(stdout, stderr, "switchboard bench", reps[0].Report)
		}
		return printJSON(stdout, stderr, "switchboard bench", reps)
	}
	for i, r := range reps {
		if len(reps) > 1 {
			fmt.Fprintf(stdout, "context %s:\n", r.Context)
		}
		printBench(stdout, r.Report)
		if i > 0 {
			fmt.Fprintf(stdout, "  vs %s:   %+.1f%% throughput\n", reps[0].Context, 100*(r.Report.Throughput/reps[0].Report.Throughput-1))
		}
	}
	return cli.ExitOK
}

// benchVariant is one -context variant's report.
type benchVariant struct {
	Context string        `json:"context"`
	Report  *bench.Report `json:"report"`
}

// benchRouter builds the bench's router as the daemon builds its own, with
// the context of variant: none, records (decision records) or full
// (records, customers and cases, with the customers section of daemonCfg).
func benchRouter(daemonCfg *config.Config, variant string) bench.BuildRouter {
	return func(ctx context.Context, cfg *config.Config, b *bus.Bus, rs router.Ruleset, metrics *telemetry.Metrics, log *zap.Logger) (bench.Router, func(), error) {
		var rc routerContext
		if variant != "none" {
			records, err := decisions.Open(ctx, b.JS, decisionsConfig(cfg))
			if err != nil {
				return nil, nil, err
			}
			rc.records = records
		}
		closeCustomers := func() {}
		if variant == "full" {
			c := daemonCfg.Customers
			custs, err := customer.Open(ctx, b.JS, c.Store(cfg.Streams))
			if err != nil {
				return nil, nil, err
			}
			closeCustomers = func() { _ = custs.Close(context.Background()) }
			cs, err := cases.Open(ctx, b.JS, casesConfig(c, cfg.Streams))
			if err != nil {
				closeCustomers()
				return nil, nil, err
			}
			rc.customers, rc.cases = custs, cs
		}
		rt, closeDelivery, err := buildRouter(ctx, cfg, b, router.Static(rs), metrics, log, rc)
		if err != nil {
			closeCustomers()
			return nil, nil, err
		}
		return rt, func() { closeDelivery(); closeCustomers() }, nil
	}
}

// printBench writes rep for people.
func printBench(w io.Writer, rep *bench.Report) {
	names := make([]string, 0, len(rep.Teams))
	for t := range rep.Teams {
		names = append(names, t)
	}
	sort.Strings(names)
	per := make([]string, 0, len(names))
	for _, t := range names {
		per = append(per, fmt.Sprintf("%s %d", t, rep.Teams[t]))
	}
	fmt.Fprintf(w, "switchboard bench: %d messages (~%d B text), %d router workers, rules %s (version %s)\n",
		rep.Messages, rep.AvgTextBytes, rep.Workers, rep.RulesFile, rep.RulesVersion)
	for _, r := range rep.ReplacedTargets {
		fmt.Fprintf(w, "  note:          %s\n", r)
	}
	fmt.Fprintf(w, "  routed:        %d messages, %d team copies (%s)\n", rep.Routed, rep.TeamCopies, strings.Join(per, ", "))
	fmt.Fprintf(w, "  noise:         %d\n", rep.Noise)
	fmt.Fprintf(w, "  dead-lettered: %d\n", rep.DeadLettered)
	fmt.Fprintf(w, "  wall time:     %.3f s (first publish to the router's last ack)\n", rep.WallSeconds)
	fmt.Fprintf(w, "  throughput:    %.0f msg/s\n", rep.Throughput)
	fmt.Fprintf(w, "  ingest→queue:  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n"+
		"                 (received_at to the team stream's timestamp; publishers run flat out, so this includes\n"+
		"                 waiting in the ingest stream whenever they outrun the router)\n",
		rep.Latency.P50, rep.Latency.P90, rep.Latency.P99, rep.Latency.Max)
	fmt.Fprintf(w, "  classify:      %.0f ns/op, %.2f allocs/op, %.0f B/op (rules.Classify alone, one goroutine)\n",
		rep.Classify.NsPerOp, rep.Classify.AllocsPerOp, rep.Classify.BytesPerOp)
	fmt.Fprintf(w, "  peak heap:     %.1f MiB (HeapAlloc sampled every 50 ms; includes the embedded NATS server)\n",
		float64(rep.PeakHeapBytes)/(1<<20))
}
