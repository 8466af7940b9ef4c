package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/rules"
)

// rulesReport implements "rules report [-since 30d]": the operators'
// corrections counted per route and per team, the worst routes first.
func rulesReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard rules report", `usage: switchboard rules report [-since 30d] [-config FILE] [-json]

Count the operators' corrections (rerouted items) per route and per team:
which routes, or the model, decided items that were moved, and which teams
lost and gained them, the worst first.`, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS)")
	sinceText := fs.String("since", "30d", "count corrections made since this long ago (30d, 24h)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	since, err := yamlfile.ParseDuration(*sinceText)
	if err != nil || since <= 0 || len(pos) > 0 {
		fmt.Fprintf(stderr, "switchboard rules report: -since %q: use a duration like 24h or 30d\n", *sinceText)
		return 2
	}
	cfg, nc, js, ok := loadAndDial(ctx, *cfgPath, "switchboard rules report", stderr)
	if !ok {
		return 1
	}
	defer nc.Close()
	store, err := corrections.Attach(ctx, js, correctionsConfig(cfg))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fs.Failf("no corrections stream yet: start the daemon (switchboard run) first")
	}
	if err != nil {
		return fs.Failf("%v", err)
	}
	from := time.Now().Add(-since)
	cs, err := store.List(ctx, from)
	if err != nil {
		return fs.Failf("%v", err)
	}
	rep := corrections.NewReport(cs, from)
	if *asJSON {
		return printJSON(stdout, stderr, "switchboard rules report", rep)
	}
	rep.WriteText(stdout)
	return 0
}

// withCorrections loads the rules at path again with the operators'
// corrections when they learn from them, so that a client command sees the
// model the daemon has; without a corrections stream it returns r.
func withCorrections(ctx context.Context, js jetstream.JetStream, cfg *config.Config, path string, r *rules.Rules) (*rules.Rules, error) {
	if !r.LearnsFromCorrections() {
		return r, nil
	}
	store, err := corrections.Attach(ctx, js, correctionsConfig(cfg))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	cs, err := modelCorrections(store)(ctx)
	if err != nil {
		return nil, err
	}
	return rules.LoadWith(path, rules.LoadOptions{Corrections: cs})
}
