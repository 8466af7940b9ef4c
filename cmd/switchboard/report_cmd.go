package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/responses/report"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

const reportUsage = `usage: switchboard report [-config FILE] [-since 7d|RFC3339] [-team T] [-channel C] [-n N] [-json]

Per team and channel, for the items received since -since: items routed,
response rate, median and 90th percentile first-response time, items past
their target, items open now, and the oldest open items. See docs/responses.md.
`

// reportCmd implements "switchboard report".
func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard report", reportUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS and the service levels)")
	since := fs.String("since", "7d", "items received since: a duration such as 24h or 7d, or an RFC 3339 time")
	team := fs.String("team", "", "only this team")
	channel := fs.String("channel", "", "only this channel")
	oldest := fs.Int("n", 10, "how many of the oldest open items to list")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	now := time.Now()
	from, err := parseSince(*since, now)
	if err == nil && *oldest < 0 {
		err = fmt.Errorf("-n must be 0 or more")
	}
	for _, v := range []string{*team, *channel} {
		if err == nil && v != "" && !message.ValidToken(v) {
			err = fmt.Errorf("%q: use lowercase letters, digits, '-' or '_'", v)
		}
	}
	if err != nil {
		return fs.Usagef("%v", err)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	policy, err := sla.New(cfg.Responses)
	if err != nil {
		return fs.Failf("%v", err)
	}
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer nc.Close()
	records, err := decisions.Attach(ctx, js, decisionsConfig(cfg))
	if err != nil {
		return fs.Failf("%v", err)
	}
	rep, err := report.Build(ctx, records, policy, report.Options{Since: from, Now: now, Team: *team, Channel: *channel, Oldest: max(*oldest, 1)})
	if err != nil {
		return fs.Failf("%v", err)
	}
	if *oldest == 0 {
		rep.Oldest = rep.Oldest[:0]
	}
	return printResult(stdout, stderr, "switchboard report", *asJSON, rep, rep.WriteText)
}

// parseSince reads a duration back from now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := yamlfile.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("-since %q: use a duration such as 24h or 7d, or an RFC 3339 time", s)
}
