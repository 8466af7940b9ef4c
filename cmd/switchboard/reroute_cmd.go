package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/reroute"
	"github.com/switchboard/switchboard/rules"
)

const rerouteUsage = `usage: switchboard reroute [-config FILE] [-by NAME] [-note TEXT] [-also TEAM,...] [-json] ID TEAM

Send item ID to TEAM instead of where it went (-also: to these teams too),
and record the correction: where it had gone, what decided that, who
rerouted it and why. The item is delivered like any routed item (it
survives a restart, each target gets it once); asking twice changes
nothing. Rules that say learn_from_corrections: true learn from it at the
next reload. TEAM must be in the rules in force (router.rules_file).
It reads the daemon's NATS directly, like trace and dead.
`

// rerouteCmd implements "switchboard reroute ID TEAM".
func rerouteCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard reroute", rerouteUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS and the rules in force)")
	by := fs.String("by", os.Getenv("USER"), "who reroutes (kept in the item's history)")
	note := fs.String("note", "", "why (kept in the item's history and the correction)")
	also := fs.String("also", "", "comma-separated teams that get the item too")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	if len(pos) != 2 {
		return fs.Usagef("give the item's ID and the TEAM, not %d arguments", len(pos))
	}
	var alsoTeams []string
	for _, t := range strings.Split(*also, ",") {
		if t = strings.TrimSpace(t); t != "" {
			alsoTeams = append(alsoTeams, t)
		}
	}
	rr, closeNATS, err := openRerouter(ctx, *cfgPath)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer closeNATS()
	res, err := rr.Do(ctx, reroute.Request{ID: pos[0], Team: pos[1], Also: alsoTeams, By: *by, Note: *note})
	if err != nil {
		return fs.Failf("%v", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, "switchboard reroute", res)
	}
	if res.Duplicate {
		fmt.Fprintf(stdout, "%s: already rerouted to %s; nothing new done\n", res.ID, strings.Join(res.Teams, ", "))
		return 0
	}
	fmt.Fprintf(stdout, "%s: rerouted from %s to %s (ingest sequence %d); follow it with: switchboard trace %s\n",
		res.ID, orDash(res.From), strings.Join(res.Teams, ", "), res.IngestSeq, res.ID)
	return 0
}

// openRerouter connects to the daemon's NATS, its decision records and
// corrections, with the teams of the rules in force (router.rules_file).
func openRerouter(ctx context.Context, cfgPath string) (*reroute.Rerouter, func(), error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	rs, err := rules.Load(cfg.Router.RulesFile)
	if err != nil {
		return nil, nil, fmt.Errorf("the rules in force do not load:\n%w", err)
	}
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	records, err := decisions.Attach(ctx, js, decisionsConfig(cfg))
	if err == nil {
		var store *corrections.Store
		if store, err = corrections.Attach(ctx, js, correctionsConfig(cfg)); err == nil {
			return &reroute.Rerouter{JS: js, IngestStream: bus.NewSubjects(cfg.Streams).IngestStream, Records: records, Corrections: store,
				Teams: func() []string { return teamNames(rs) }}, nc.Close, nil
		}
	}
	nc.Close()
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil, errors.New("no decision records or corrections yet: start the daemon (switchboard run) first")
	}
	return nil, nil, err
}
