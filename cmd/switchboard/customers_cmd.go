package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/customer/admin"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
)

// customersGroup is "switchboard customers".
func customersGroup() *cli.Group {
	return &cli.Group{
		Name: "switchboard customers",
		About: "Customers: one person's identities across channels (docs/customers.md). A KEY is email:ADDRESS, phone:NUMBER, " +
			"x:USER_ID, xh:HANDLE, fb:USER_ID, web:ID or a configured pattern such as order:1180442.",
		Commands: []cli.Command{
			{Name: "show", Args: "[-json] KEY", Summary: "the customer holding KEY: keys, links, channels, cases, recent items", Run: customersShow},
			{Name: "link", Args: "KEY KEY", Summary: "join two customers ops know are one person", Run: customersLink},
			{Name: "unlink", Args: "KEY KEY", Summary: "separate two keys linked by mistake; they are never joined again", Run: customersUnlink},
			{Name: "forget", Args: "[-messages] KEY", Summary: "erase the customer (GDPR): identity, cases, conversation entries; with -messages also their messages and decision records", Run: customersForget},
		},
	}
}

// customersCmd is one customers command: the flags every customers
// command has, and where it prints.
type customersCmd struct {
	fs             *cli.FlagSet
	cfgPath        *string
	asJSON         *bool
	stdout, stderr io.Writer
}

// newCustomersCmd returns "switchboard customers <name>" with its shared
// flags; the command adds its own to fs.
func newCustomersCmd(name, usage string, stdout, stderr io.Writer) *customersCmd {
	fs := cli.NewFlagSet("switchboard customers "+name, usage, stdout, stderr)
	return &customersCmd{fs: fs,
		cfgPath: fs.String("config", "config.yaml", "configuration file (to find NATS and the customer store)"),
		asJSON:  fs.Bool("json", false, "print the result as JSON"),
		stdout:  stdout, stderr: stderr}
}

// What a customers command's usage error asks for when it was not given
// the one KEY (show, forget) or the two (link, unlink) it takes.
const (
	wantOneKey  = "give one KEY, like email:matti@example.fi"
	wantTwoKeys = "give two KEYs, like email:matti@example.fi x:2001"
)

// customersDo is what a customers command does with the customer admin
// and its KEYs: its result v, printed as JSON with -json, and writeText,
// which prints it otherwise.
type customersDo func(a *admin.Admin, keys []string) (v any, writeText func(io.Writer), err error)

// run parses the command's args, checks that they are n KEYs (want says
// what to give otherwise), opens the customer admin with the configuration
// at -config, runs do with it and the keys and prints the result (as JSON
// with -json).
func (c *customersCmd) run(ctx context.Context, args []string, n int, want string, do customersDo) int {
	fs := c.fs
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	if len(pos) != n {
		return fs.Usagef("%s", want)
	}
	a, closeAll, err := openCustomerAdmin(ctx, *c.cfgPath)
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer closeAll()
	v, writeText, err := do(a, pos)
	if err != nil {
		return fs.Failf("%v", err)
	}
	return printResult(c.stdout, c.stderr, fs.Name(), *c.asJSON, v, func(w io.Writer) error {
		writeText(w)
		return nil
	})
}

// openCustomerAdmin connects to the daemon's NATS and its customer stores.
func openCustomerAdmin(ctx context.Context, cfgPath string) (*admin.Admin, func(), error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	if !cfg.Customers.On() {
		return nil, nil, fmt.Errorf("the customer model is off in %s (customers.enabled: false)", cfgPath)
	}
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	closeAll := nc.Close
	custs, err := customer.Open(ctx, js, cfg.Customers.Store(cfg.Streams))
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closeAll = func() { _ = custs.Close(context.Background()); nc.Close() }
	cs, err := cases.Open(ctx, js, casesConfig(cfg.Customers, cfg.Streams))
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	records, err := decisions.Attach(ctx, js, decisionsConfig(cfg))
	if err != nil {
		records = nil // no records yet: nothing routed, nothing to find there
	}
	fixes, err := corrections.Attach(ctx, js, correctionsConfig(cfg))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		fixes, err = nil, nil // nobody rerouted yet: no corrections to find
	}
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("opening the corrections stream: %w", err)
	}
	a, err := newCustomerAdmin(ctx, cfg, js, custs, cs, records, fixes)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return a, closeAll, nil
}

const customersShowUsage = `usage: switchboard customers show [-config FILE] [-json] KEY

The customer holding KEY: their keys (earliest first) and the evidence that
links them, the channels they wrote on, their cases and recent items.`

func customersShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newCustomersCmd("show", customersShowUsage, stdout, stderr).run(ctx, args, 1, wantOneKey, func(a *admin.Admin, keys []string) (any, func(io.Writer), error) {
		p, err := a.Show(ctx, keys[0])
		if err != nil {
			return nil, nil, err
		}
		return p, func(w io.Writer) { printProfile(w, p) }, nil
	})
}

func printProfile(w io.Writer, p *admin.Profile) {
	c := p.Customer
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "customer\t%s (%s)\n", c.ID, c.Strength)
	for _, k := range c.Keys {
		fmt.Fprintf(tw, "key\t%s\tfirst %s, last %s\n", k.Key, k.First.Format(time.DateTime), k.Last.Format(time.DateTime))
	}
	for _, l := range c.Links {
		keys := make([]string, len(l.Keys))
		for i, k := range l.Keys {
			keys[i] = string(k)
		}
		fmt.Fprintf(tw, "link\t%s\t%s by %s %s\n", strings.Join(keys, " = "), l.Strength, l.By, l.Item)
	}
	for _, ch := range c.Channels {
		fmt.Fprintf(tw, "channel\t%s\tfirst %s, last %s\n", ch.Channel, ch.First.Format(time.DateTime), ch.Last.Format(time.DateTime))
	}
	for _, k := range p.Cases {
		state := "open until quiet"
		if !k.Closed.IsZero() {
			state = "closed " + k.Closed.Format(time.DateTime) + " by " + k.ClosedBy
		}
		fmt.Fprintf(tw, "case\t%s\t%s, %d items, opened %s, last %s, %s\n", k.ID, k.Team, k.ItemCount,
			k.Opened.Format(time.DateTime), k.Last.Format(time.DateTime), state)
	}
	for _, it := range c.Recent {
		fmt.Fprintf(tw, "item\t%s\t%s\n", it.ID, it.At.Format(time.DateTime))
	}
	_ = tw.Flush()
}

const customersLinkUsage = `usage: switchboard customers link [-config FILE] [-json] KEY KEY

Join the customers holding the two keys: ops know they are one person (a
confirmed link). Their open cases of one team become one.`

func customersLink(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return customersPair(ctx, "link", customersLinkUsage, args, stdout, stderr, func(a *admin.Admin, x, y string) (any, string, error) {
		c, _, err := a.Link(ctx, x, y)
		if err != nil {
			return nil, "", err
		}
		return c, fmt.Sprintf("%s and %s are customer %s (%d keys)", x, y, c.ID, len(c.Keys)), nil
	})
}

const customersUnlinkUsage = `usage: switchboard customers unlink [-config FILE] [-json] KEY KEY

Separate two keys linked by mistake. The customer splits where the link
was the only evidence joining them, and the two keys are never joined again.`

func customersUnlink(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return customersPair(ctx, "unlink", customersUnlinkUsage, args, stdout, stderr, func(a *admin.Admin, x, y string) (any, string, error) {
		changes, err := a.Unlink(ctx, x, y)
		if err != nil {
			return nil, "", err
		}
		return changes, fmt.Sprintf("%s and %s are apart (%d customer ids changed)", x, y, len(changes)), nil
	})
}

// customersPair runs a command that takes two keys.
func customersPair(ctx context.Context, name, usage string, args []string, stdout, stderr io.Writer,
	do func(a *admin.Admin, x, y string) (result any, summary string, err error)) int {
	return newCustomersCmd(name, usage, stdout, stderr).run(ctx, args, 2, wantTwoKeys, func(a *admin.Admin, keys []string) (any, func(io.Writer), error) {
		v, summary, err := do(a, keys[0], keys[1])
		return v, func(w io.Writer) { fmt.Fprintln(w, summary) }, err
	})
}

const customersForgetUsage = `usage: switchboard customers forget [-config FILE] [-messages] [-json] KEY

Erase the customer holding KEY, for a GDPR erasure request: their identity
record and every key of it, their cases and their private conversations'
entries. With -messages also their messages in the ingest stream, their
routed copies in the NATS team queues and their decision records; without,
the decision records only lose the link to the customer. Prints what was
removed. Messages already in a team's Redis stream or sent to a webhook are
the team's to delete. Stop the customer's channel first if a message of
theirs may be arriving at the same moment.`

func customersForget(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCustomersCmd("forget", customersForgetUsage, stdout, stderr)
	messages := c.fs.Bool("messages", false, "also delete their messages, routed copies and decision records")
	return c.run(ctx, args, 1, wantOneKey, func(a *admin.Admin, keys []string) (any, func(io.Writer), error) {
		out, err := a.Forget(ctx, keys[0], *messages)
		if err != nil {
			if out != nil {
				printErased(stderr, out)
			}
			return nil, nil, fmt.Errorf("%w (run it again to finish)", err)
		}
		return out, func(w io.Writer) { printErased(w, out) }, nil
	})
}

func printErased(w io.Writer, out *admin.Erased) {
	if c := out.Customer; c != nil {
		keys := make([]string, len(c.Keys))
		for i, k := range c.Keys {
			keys[i] = string(k)
		}
		fmt.Fprintf(w, "customer %s: %d keys removed (%s)\n", orDash([]string{c.ID}), len(c.Keys), strings.Join(keys, ", "))
	}
	fmt.Fprintf(w, "cases removed: %d\n", len(out.Cases))
	fmt.Fprintf(w, "conversation entries removed: %d\n", len(out.Conversations))
	fmt.Fprintf(w, "items found: %d\n", len(out.Items))
	fmt.Fprintf(w, "decision records removed or cleared: %d\n", out.Records)
	fmt.Fprintf(w, "messages deleted from the ingest stream: %d\n", len(out.Messages))
	fmt.Fprintf(w, "routed copies deleted from the team queues: %d\n", out.TeamCopies)
	fmt.Fprintf(w, "operators' corrections deleted: %d\n", out.Corrections)
	fmt.Fprintf(w, "dead letters deleted: %d\n", len(out.DeadLetters))
}
