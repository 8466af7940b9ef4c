package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/router"
)

// deadGroup is "switchboard dead".
func deadGroup() *cli.Group {
	return &cli.Group{
		Name: "switchboard dead",
		About: `Inspect and re-drive dead letters: items the router could not route or
deliver after router.max_deliver attempts. See docs/delivery.md.`,
		Commands: []cli.Command{
			{Name: "list", Args: "[-config FILE] [-reason R] [-since D] [-n N] [-json]", Summary: "show dead letters, oldest first: reason, team, target, error", Run: deadList},
			{Name: "replay", Args: "[-config FILE] (-id ID | -all | -reason R) [-since D] [-dry-run]", Summary: "re-drive dead letters after fixing the cause", Run: deadReplay},
		},
	}
}

const deadListUsage = `usage: switchboard dead list [-config FILE] [-reason R] [-since D] [-n N] [-json]

Show the dead-letter stream, oldest first: why each item is there, which
team and target failed, and the envelope id.`

const deadReplayUsage = `usage: switchboard dead replay [-config FILE] (-id ID | -all | -reason R) [-since D] [-dry-run]

Republish the original messages to the ingest stream so the router routes
them again (after you fixed the cause), then delete the dead letters. A
dead letter that names a team is re-delivered to that team only; teams
that already got the item do not get it again. See docs/delivery.md.`

// deadFlags are the flags list and replay share.
type deadFlags struct {
	cfgPath, reason, since string
}

func (f *deadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cfgPath, "config", "config.yaml", "configuration file (to find NATS)")
	fs.StringVar(&f.reason, "reason", "", "only dead letters with this reason: "+deadReasons)
	fs.StringVar(&f.since, "since", "", "only dead letters stored since: a duration such as 30m or 2d, or an RFC 3339 time")
}

// deadReasons lists the dead-letter reasons, for help and errors.
const deadReasons = router.ReasonDeliveryFailed + ", " + router.ReasonRejected + ", " + router.ReasonUnknownTeam + ", " +
	router.ReasonMalformed + ", " + router.ReasonInvalid

// query validates the shared flags.
func (f *deadFlags) query(now time.Time) (router.DeadQuery, error) {
	var q router.DeadQuery
	if f.reason != "" {
		if !message.ValidToken(f.reason) {
			return q, fmt.Errorf("-reason %q: use one of %s", f.reason, deadReasons)
		}
		q.Reason = f.reason
	}
	if f.since != "" {
		if t, err := time.Parse(time.RFC3339, f.since); err == nil {
			q.Since = t
		} else if d, err := yamlfile.ParseDuration(f.since); err == nil && d > 0 {
			q.Since = now.Add(-d)
		} else {
			return q, fmt.Errorf("-since %q: use a duration such as 30m or 2d, or an RFC 3339 time", f.since)
		}
	}
	return q, nil
}

// open loads the configuration and connects to the dead-letter stream.
func (f *deadFlags) open(ctx context.Context) (*router.DeadLetters, func(), error) {
	cfg, err := config.Load(f.cfgPath)
	if err != nil {
		return nil, nil, err
	}
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	s := bus.NewSubjects(cfg.Streams)
	return router.NewDeadLetters(js, s.DeadStream, s.IngestStream, s.Dead), nc.Close, nil
}

func deadList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard dead list", deadListUsage, stdout, stderr)
	var f deadFlags
	f.register(fs.FlagSet)
	limit := fs.Int("n", 100, "show the most recent N (0: all)")
	asJSON := fs.Bool("json", false, "print one JSON object per dead letter, with the original envelope")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	q, err := f.query(time.Now())
	if err == nil && *limit < 0 {
		err = errors.New("-n must be 0 (all) or more")
	}
	if err != nil {
		return fs.Usagef("%v", err)
	}
	q.Limit = *limit
	dead, closeNATS, err := f.open(ctx)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer closeNATS()
	entries, err := dead.List(ctx, q)
	if err != nil {
		return fs.Failf("%v", err)
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if *asJSON {
		enc := json.NewEncoder(out)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return fs.Failf("%v", err)
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tFAILED AT\tREASON\tTEAM\tTARGET\tTRIES\tID\tERROR")
	for _, e := range entries {
		failed := e.FailedAt
		if failed.IsZero() {
			failed = e.Stored
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Seq, failed.UTC().Format(time.RFC3339), dash(e.Reason), dash(e.Team),
			dash(e.Target), e.Deliveries, dash(e.EnvelopeID()), oneLine(e.Error, 120))
	}
	tw.Flush()
	fmt.Fprintf(stderr, "%d dead letter(s). Fix the cause, then: switchboard dead replay -id SEQ (or -reason R, or -all)\n", len(entries))
	return 0
}

func deadReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard dead replay", deadReplayUsage, stdout, stderr)
	var f deadFlags
	f.register(fs.FlagSet)
	id := fs.String("id", "", "replay one dead letter: its SEQ (as listed) or its envelope id (every dead letter of that envelope)")
	all := fs.Bool("all", false, "replay every dead letter (with -since: every one since then)")
	dryRun := fs.Bool("dry-run", false, "show what would be replayed; change nothing")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	n := 0
	for _, set := range []bool{*id != "", *all, f.reason != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fs.Usagef("choose exactly one of -id, -all or -reason")
	}
	q, err := f.query(time.Now())
	if err != nil {
		return fs.Usagef("%v", err)
	}
	dead, closeNATS, err := f.open(ctx)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer closeNATS()

	var entries []router.DeadEntry
	if seq, perr := strconv.ParseUint(*id, 10, 64); *id != "" && perr == nil {
		e, err := dead.Get(ctx, seq)
		if err != nil {
			return fs.Failf("%v", err)
		}
		entries = append(entries, e)
	} else {
		list, err := dead.List(ctx, q)
		if err != nil {
			return fs.Failf("%v", err)
		}
		for _, e := range list {
			if *id == "" || e.EnvelopeID() == *id {
				entries = append(entries, e)
			}
		}
		if *id != "" && len(entries) == 0 {
			return fs.Failf("no dead letter for envelope %q", *id)
		}
	}
	failed := 0
	for _, e := range entries {
		what := fmt.Sprintf("%d (%s, reason %s, team %s)", e.Seq, dash(e.EnvelopeID()), dash(e.Reason), dash(e.Team))
		if *dryRun {
			fmt.Fprintf(stdout, "would replay %s to %s\n", what, dash(e.Subject))
			continue
		}
		res, err := dead.Replay(ctx, e)
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(stderr, "switchboard dead replay: %v\n", err)
		case res.Duplicate:
			fmt.Fprintf(stdout, "%s was replayed before (ingest seq %d); removed from the dead letters\n", what, res.IngestSeq)
		default:
			fmt.Fprintf(stdout, "replayed %s as ingest seq %d\n", what, res.IngestSeq)
		}
	}
	if *dryRun {
		fmt.Fprintf(stderr, "dry run: %d dead letter(s) would be replayed\n", len(entries))
		return 0
	}
	fmt.Fprintf(stderr, "%d replayed, %d failed\n", len(entries)-failed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine makes s fit one table cell of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return dash(s)
}
