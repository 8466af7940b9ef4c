package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/trace"
	"github.com/switchboard/switchboard/router/decisions"
)

const traceUsage = `usage: switchboard trace [-config FILE] [-json] ID

Show where item ID went and why: its teams, the rules version and the
routes and words that matched, model scores, thread, customer and case, how
each delivery target answered, and its history (retries, dead letters,
reroutes, replays). The text is printed with control characters replaced.
It reads the daemon's NATS directly, like tail and dead.
`

// traceCmd implements "switchboard trace ID".
func traceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard trace", traceUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS)")
	asJSON := fs.Bool("json", false, "print the envelope and the decision record as JSON")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	if len(pos) != 1 {
		return fs.Usagef("give one item id, like web:5f0c… (find one with: switchboard messages search)")
	}
	src, closeNATS, err := openTrace(ctx, *cfgPath)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer closeNATS()
	t, err := src.Trace(ctx, pos[0])
	if errors.Is(err, decisions.ErrNotFound) {
		return fs.Failf("no decision record for %s: the router has not decided it yet, it expired, or it is not an item id (find one with: switchboard messages search)", trace.Clean(pos[0]))
	}
	if err != nil {
		return fs.Failf("%v", err)
	}
	return printResult(stdout, stderr, "switchboard trace", *asJSON, t, func(w io.Writer) error { return trace.WriteText(w, t) })
}

// openTrace connects to the daemon's NATS and its decision records.
func openTrace(ctx context.Context, cfgPath string) (*trace.Source, func(), error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	dc := decisionsConfig(cfg)
	store, err := decisions.Attach(ctx, js, dc)
	if err != nil {
		nc.Close()
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, nil, fmt.Errorf("no decision records yet: stream %s does not exist (the daemon creates it when it starts)", dc.Stream)
		}
		return nil, nil, err
	}
	return &trace.Source{JS: js, IngestStream: cfg.Streams.Ingest.Name, Records: store}, nc.Close, nil
}
