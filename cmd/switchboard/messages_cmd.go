package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/trace"
)

// messagesGroup is "switchboard messages".
func messagesGroup() *cli.Group {
	return &cli.Group{
		Name:  "switchboard messages",
		About: "Find routed items. See one item's trace with: switchboard trace ID",
		Commands: []cli.Command{
			{Name: "search", Args: "[flags]", Summary: "find items by team, channel, outcome, text or time, newest first", Run: messagesSearch},
		},
	}
}

const messagesSearchUsage = `usage: switchboard messages search [-config FILE] [-team T] [-channel C] [-outcome routed|noise|dead]
                                   [-q TEXT] [-since T] [-until T] [-n N] [-before CURSOR] [-json]

Find items by team, channel, outcome, text (in the subject and start of the
text, the author or the id) and time received, newest change first. -since
and -until take an RFC 3339 time or a duration such as 2h or 7d (that long
ago). A full page ends with the -before value that continues it. See one
item with: switchboard trace ID
`

// messagesSearch implements "switchboard messages search".
func messagesSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard messages search", messagesSearchUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS)")
	v := map[string]*string{}
	for _, f := range []struct{ name, param, help string }{
		{"team", "team", "only items routed to this team"},
		{"channel", "channel", "only items from this channel: web, email, facebook, x"},
		{"outcome", "outcome", "routed, noise or dead"},
		{"q", "q", "text the item's subject, text, author or id contains (any case)"},
		{"since", "since", "received at or after: an RFC 3339 time or a duration such as 2h"},
		{"until", "until", "received at or before: an RFC 3339 time or a duration"},
		{"thread", "thread", "only items of this thread"},
		{"customer", "customer", "only items linked to this customer"},
		{"before", "before", "continue a search: the cursor printed after a full page"},
	} {
		v[f.param] = fs.String(f.name, "", f.help)
	}
	limit := fs.Int("n", 50, "items per page (1 to 500)")
	asJSON := fs.Bool("json", false, "print the page as JSON")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	if len(pos) > 0 {
		return fs.Usagef("unexpected argument %q (search text goes in -q)", pos[0])
	}
	params := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, p := range v {
		if *p != "" {
			params.Set(k, *p)
		}
	}
	q, err := trace.ParseQuery(params, time.Now())
	if err != nil {
		return fs.Usagef("-%v", err)
	}
	src, closeNATS, err := openTrace(ctx, *cfgPath)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer closeNATS()
	p, err := src.Search(ctx, q)
	if err != nil {
		return fs.Failf("%v", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, "switchboard messages search", p)
	}
	if err := trace.WriteList(stdout, p); err != nil {
		return fs.Failf("%v", err)
	}
	fmt.Fprintf(stderr, "%d item(s), newest change first", len(p.Records))
	if p.Next != 0 {
		fmt.Fprintf(stderr, "; more with -before %d", p.Next)
	}
	fmt.Fprintln(stderr)
	return 0
}
