package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/internal/trace"
)

const messagesUsage = `usage: switchboard messages search [-config FILE] [-team T] [-channel C] [-outcome routed|noise|dead]
                                   [-q TEXT] [-since T] [-until T] [-n N] [-before CURSOR] [-json]

Find items by team, channel, outcome, text (in the subject and start of the
text, the author or the id) and time received, newest change first. -since
and -until take an RFC 3339 time or a duration such as 2h or 7d (that long
ago). A full page ends with the -before value that continues it. See one
item with: switchboard trace ID
`

// messagesCmd implements "switchboard messages search".
func messagesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "search" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
			fmt.Fprint(stdout, messagesUsage)
			return 0
		}
		fmt.Fprint(stderr, messagesUsage)
		return 2
	}
	fs := flag.NewFlagSet("messages search", flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	fs.Usage = func() { fmt.Fprint(stderr, messagesUsage); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "switchboard messages search: unexpected argument %q (search text goes in -q)\n", fs.Arg(0))
		return 2
	}
	params := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, p := range v {
		if *p != "" {
			params.Set(k, *p)
		}
	}
	q, err := trace.ParseQuery(params, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "switchboard messages search: -"+err.Error())
		return 2
	}
	src, closeNATS, err := openTrace(ctx, *cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard messages search:", err)
		return 1
	}
	defer closeNATS()
	p, err := src.Search(ctx, q)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard messages search:", err)
		return 1
	}
	if *asJSON {
		return printJSON(stdout, stderr, "switchboard messages search", p)
	}
	if err := trace.WriteList(stdout, p); err != nil {
		fmt.Fprintln(stderr, "switchboard messages search:", err)
		return 1
	}
	fmt.Fprintf(stderr, "%d item(s), newest change first", len(p.Records))
	if p.Next != 0 {
		fmt.Fprintf(stderr, "; more with -before %d", p.Next)
	}
	fmt.Fprintln(stderr)
	return 0
}
