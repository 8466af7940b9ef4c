// Command switchboard polls customer channels, classifies every message by
// rules that ops own and delivers it to the queue of the team that owns it.
//
// Usage:
//
//	switchboard [run] [-config FILE]        run the daemon (the default)
//	switchboard config check [FILE]         validate a configuration file
//	switchboard rules check|test|backtest   work with routing rules
//	switchboard tail TEAM [-from new|all|DURATION]
//	switchboard dead list|replay            inspect and re-drive dead letters
//	switchboard report [-since 7d]          response rate and times per team and channel
//	switchboard handled ID                  report an item handled outside the channels
//	switchboard version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand: it parses args and returns the exit code.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `switchboard routes customer messages from every channel to the team that owns them.

Usage:
  switchboard [run] [-config FILE]          run the daemon (default config: ./config.yaml)
  switchboard config check [FILE]           validate a configuration file
  switchboard rules check [FILE]            validate a rules file
  switchboard rules test [flags] TEXT       show how a message would be routed
  switchboard rules backtest -rules FILE    replay stored messages through new rules
  switchboard tail [flags] TEAM             print a team queue's items as JSON lines
  switchboard dead list [flags]             show dead letters: reason, team, target, error
  switchboard dead replay [flags]           re-drive dead letters after fixing the cause
  switchboard report [flags]                response rate and times per team and channel
  switchboard handled [flags] ID            report an item handled where Switchboard cannot see it
  switchboard bench [flags]                 measure routing end to end in-process
  switchboard version                       print the version

Run "switchboard COMMAND -h" for a command's flags.
`

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help" && args[0] != "-help") {
		return runCmd(ctx, args, stdout, stderr)
	}
	cmds := map[string]command{
		"run":     runCmd,
		"config":  configCmd,
		"rules":   rulesCmd,
		"tail":    tailCmd,
		"dead":    deadCmd,
		"bench":   benchCmd,
		"report":  reportCmd,
		"handled": handledCmd,
		"version": func(context.Context, []string, io.Writer, io.Writer) int {
			fmt.Fprintln(stdout, "switchboard", version)
			return 0
		},
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "switchboard: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return cmd(ctx, args[1:], stdout, stderr)
}
