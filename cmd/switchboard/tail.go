package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/rules"
)

const tailUsage = `usage: switchboard tail [-config FILE] [-from new|all|DURATION] [-n COUNT] TEAM

Print the items routed to TEAM's NATS queue as JSON lines, following new
ones until Ctrl-C. TEAM must be a team of the rules file in force
(router.rules_file) or have items in the queue. Flags may come before or
after TEAM. It reads the daemon's NATS with the credential the daemon
wrote (see docs/security.md).`

// tailCmd implements "switchboard tail TEAM": print a team queue's routed
// items as JSON lines until interrupted.
func tailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard tail", tailUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS and the rules)")
	from := fs.String("from", "new", "where to start: new, all, or a duration such as 10m or 2d (items since then)")
	limit := fs.Int("n", 0, "exit after printing this many items (0: run until interrupted)")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	if len(pos) != 1 {
		return fs.Usagef("give one TEAM")
	}
	team := pos[0]
	if !message.ValidToken(team) {
		return fs.Usagef("team %q: use lowercase letters, digits, '-' or '_'", team)
	}
	if *limit < 0 {
		return fs.Usagef("-n must be 0 (no limit) or more")
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
			return fs.Usagef("-from %q: use new, all or a duration like 10m", *from)
		}
		start := time.Now().Add(-d)
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	}
	cfg, nc, js, ok := loadAndDial(ctx, *cfgPath, "switchboard tail", stderr)
	if !ok {
		return 1
	}
	subjects := bus.NewSubjects(cfg.Streams)
	occ.FilterSubjects = []string{subjects.Team(team)}
	defer nc.Close()
	if err := knownTeam(ctx, cfg, js, subjects, team); err != nil {
		return fs.Failf("%v", err)
	}
	cons, err := js.OrderedConsumer(ctx, subjects.TeamStream, occ)
	if err != nil {
		return fs.Failf("reading stream %s: %v", subjects.TeamStream, err)
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
			return fs.Failf("%v", err)
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
			return fs.Failf("%v", err)
		}
		out.Flush()
		if ctx.Err() != nil {
			return 0
		}
	}
}

// knownTeam returns an error saying so when team is neither a team of the
// rules file in force nor has items in its queue (a team removed from the
// rules may still have some).
func knownTeam(ctx context.Context, cfg *config.Config, js jetstream.JetStream, subjects bus.Subjects, team string) error {
	var names []string
	rs, rulesErr := rules.Load(cfg.Router.RulesFile)
	if rulesErr == nil {
		for _, t := range rs.Teams() {
			if t.Name == team {
				return nil
			}
			names = append(names, t.Name)
		}
	}
	stream, err := js.Stream(ctx, subjects.TeamStream)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", subjects.TeamStream, err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subjects.Team(team)))
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", subjects.TeamStream, err)
	}
	if info.State.Subjects[subjects.Team(team)] > 0 {
		return nil
	}
	if rulesErr != nil {
		return fmt.Errorf("no items for team %q, and the rules file %s does not load to tell whether the team exists: %v", team, cfg.Router.RulesFile, rulesErr)
	}
	return fmt.Errorf("no team %q in %s and no items in its queue; the teams are: %s", team, cfg.Router.RulesFile, strings.Join(names, ", "))
}
