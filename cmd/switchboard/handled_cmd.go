package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/router/decisions"
)

const handledUsage = `usage: switchboard handled [-config FILE] [-status S] [-by NAME] [-note TEXT] ID

Reports that the routed item ID was handled where Switchboard cannot see it
(a phone call, a reply from a personal mailbox), or needs no response:
status responded (default), resolved or no_response_needed. The item's first
response is recorded and its escalations stop. It publishes on NATS like a
team tool (<prefix>.response.handled), so it works without the HTTP API.
`

// handledCmd implements "switchboard handled ID".
func handledCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard handled", handledUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS)")
	status := fs.String("status", "responded", "responded, resolved or no_response_needed")
	by := fs.String("by", defaultBy(), "who handled it")
	note := fs.String("note", "", "a note for the item's record")
	ids, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	if len(ids) != 1 {
		return fs.Usagef("give one item ID, not %d", len(ids))
	}
	cfg, nc, js, ok := loadAndDial(ctx, *cfgPath, "switchboard handled", stderr)
	if !ok {
		return 1
	}
	defer nc.Close()
	records, err := decisions.Attach(ctx, js, decisionsConfig(cfg))
	if err != nil {
		return fs.Failf("%v", err)
	}
	pub := responses.NewPublisher(js, responseSubjects(cfg))
	r, dup, err := responses.MarkHandled(ctx, records, pub, ids[0], responses.Signal{Status: *status, By: *by, Note: *note}, time.Now())
	switch {
	case errors.Is(err, responses.ErrBadSignal):
		fmt.Fprintln(stderr, "switchboard handled:", err)
		return 2
	case err != nil:
		return fs.Failf("%v", err)
	case dup:
		fmt.Fprintf(stdout, "%s was already marked %s\n", ids[0], r.Status)
	default:
		fmt.Fprintf(stdout, "%s marked %s by %s\n", ids[0], r.Status, r.By)
	}
	return 0
}

// defaultBy names the person running the command.
func defaultBy() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}
