package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// tailCmd implements "switchboard tail TEAM": print a team queue's routed
// items as JSON lines until interrupted.
func tailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS)")
	from := fs.String("from", "new", "where to start: new, all, or a duration such as 10m or 2d (items since then)")
	limit := fs.Int("n", 0, "exit after printing this many items (0: run until interrupted)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: switchboard tail [-config FILE] [-from new|all|DURATION] [-n COUNT] TEAM")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	team := fs.Arg(0)
	if !message.ValidToken(team) {
		fmt.Fprintf(stderr, "switchboard tail: team %q: use lowercase letters, digits, '-' or '_'\n", team)
		return 2
	}
	occ := jetstream.OrderedConsumerConfig{}
	switch *from {
	case "new":
		occ.DeliverPolicy = jetstream.DeliverNewPolicy
	case "all":
		occ.DeliverPolicy = jetstream.DeliverAllPolicy
	default:
		d, err := yamlfile.ParseDuration(*from)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "switchboard tail: -from %q: use new, all or a duration like 10m\n", *from)
			return 2
		}
		start := time.Now().Add(-d)
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	subjects := bus.NewSubjects(cfg.Streams)
	occ.FilterSubjects = []string{subjects.Team(team)}
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard tail:", err)
		return 1
	}
	defer nc.Close()
	cons, err := js.OrderedConsumer(ctx, subjects.TeamStream, occ)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard tail: reading stream %s: %v\n", subjects.TeamStream, err)
		return 1
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	printed := 0
	for {
		msgs, err := cons.Fetch(100, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			if ctx.Err() != nil {
				return 0
			}
			fmt.Fprintln(stderr, "switchboard tail:", err)
			return 1
		}
		for m := range msgs.Messages() {
			out.Write(m.Data())
			out.WriteByte('\n')
			printed++
			if *limit > 0 && printed >= *limit {
				return 0
			}
		}
		if err := msgs.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
			fmt.Fprintln(stderr, "switchboard tail:", err)
			return 1
		}
		out.Flush()
		if ctx.Err() != nil {
			return 0
		}
	}
}
