// Command switchboard polls customer channels, classifies every message by
// rules that ops own and delivers it to the queue of the team that owns it.
//
// Usage:
//
//	switchboard [run] [-config FILE]        run the daemon (the default)
//	switchboard config check [FILE]         validate a configuration file and its rules
//	switchboard rules check|test|backtest|evaluate|report   work with routing rules
//	switchboard tail [flags] TEAM           print a team queue's items
//	switchboard dead list|replay            inspect and re-drive dead letters
//	switchboard trace ID                    where an item went, and why
//	switchboard messages search             find items by team, channel, text, time
//	switchboard customers show|link|unlink|forget   one customer across channels
//	switchboard reroute ID TEAM             send an item to another team; record the correction
//	switchboard report [-since 7d]          response rate and times per team and channel
//	switchboard handled ID                  report an item handled outside the channels
//	switchboard bench                       measure routing end to end in-process
//	switchboard version                     the module version and commit
//
// Every command takes -h. The commands parse flags and print; what they do
// lives in the packages they call.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/switchboard/switchboard/internal/cli"
)

// version, when set at link time (-ldflags "-X main.version=v1.2.3"),
// overrides the module version read from the build information.
var version string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// commands is the whole command line: one group, whose entries are
// commands or groups of their own. Add a command with one entry here.
func commands() *cli.Group {
	return &cli.Group{
		Name:    "switchboard",
		About:   "switchboard routes customer messages from every channel to the team that owns them.",
		Default: "run",
		Commands: []cli.Command{
			{Name: "run", Args: "[-config FILE]", Summary: "run the daemon (the default; config ./config.yaml)", Run: runCmd},
			{Name: "config", Args: "check [FILE]", Summary: "validate a configuration file and the rules file it names", Group: configGroup()},
			{Name: "rules", Args: "check|test|backtest|evaluate|report", Summary: "validate rules, see how a message would be routed, replay stored messages through new rules, cross-validate the model, report corrections", Group: rulesGroup()},
			{Name: "tail", Args: "[flags] TEAM", Summary: "print a team queue's items as JSON lines", Run: tailCmd},
			{Name: "dead", Args: "list|replay [flags]", Summary: "show dead letters; re-drive them after fixing the cause", Group: deadGroup()},
			{Name: "trace", Args: "[-json] ID", Summary: "where an item went, and why: decision, deliveries, history", Run: traceCmd},
			{Name: "messages", Args: "search [flags]", Summary: "find items by team, channel, text or time, newest first", Group: messagesGroup()},
			{Name: "customers", Args: "show|link|unlink|forget", Summary: "one person's identities across channels: show, link, unlink, forget (GDPR)", Group: customersGroup()},
			{Name: "reroute", Args: "[flags] ID TEAM", Summary: "send an item to another team and record the correction", Run: rerouteCmd},
			{Name: "report", Args: "[-since 7d] [-team T]", Summary: "response rate and first-response times per team and channel, items past target, the oldest open items", Run: reportCmd},
			{Name: "handled", Args: "[flags] ID", Summary: "report an item answered where Switchboard cannot see it, or needing no answer", Run: handledCmd},
			{Name: "bench", Args: "[flags]", Summary: "measure routing end to end in-process", Run: benchCmd},
			{Name: "version", Summary: "print the version and the commit it was built from", Run: versionCmd},
		},
	}
}

// dispatch runs the command args name and returns its exit code.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return commands().Run(ctx, args, stdout, stderr)
}

// versionCmd implements "switchboard version".
func versionCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard version", "usage: switchboard version\n\nPrint the module version, the commit it was built from and the Go version.", stdout, stderr)
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, cli.Version(bi, version))
	return cli.ExitOK
}

// parseNoArgs parses args with fs for a command that takes no positional
// arguments. When ok is false the command ends with code: the flags were
// wrong, help was asked for, or an argument was given.
func parseNoArgs(fs *cli.FlagSet, args []string) (code int, ok bool) {
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err), false
	}
	if len(pos) > 0 {
		return fs.Usagef("unexpected argument %q", pos[0]), false
	}
	return 0, true
}

// parseFileArg parses args with fs for a command that takes at most one
// file, dflt when none is given. When ok is false the command ends with
// code: the flags were wrong, help was asked for, or more files were given.
func parseFileArg(fs *cli.FlagSet, args []string, dflt string) (path string, code int, ok bool) {
	pos, err := fs.Parse(args)
	if err != nil {
		return "", cli.ExitCode(err), false
	}
	switch len(pos) {
	case 0:
		return dflt, 0, true
	case 1:
		return pos[0], 0, true
	default:
		return "", fs.Usagef("give one file, not %d", len(pos)), false
	}
}
