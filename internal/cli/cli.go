// Package cli is the command-line plumbing every switchboard command
// shares: a Group dispatches to its subcommands and answers help, and a
// FlagSet parses flags wherever they stand among the arguments and answers
// -h with exit code 0. Commands parse flags and print; what they do lives
// in other packages.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Exit codes of every command.
const (
	// ExitOK: done (also after -h).
	ExitOK = 0
	// ExitFailed: the command ran and failed (a bad file, an unreachable
	// server).
	ExitFailed = 1
	// ExitUsage: the command line was wrong (an unknown command or flag, a
	// missing argument).
	ExitUsage = 2
)

// Command is one subcommand of a Group.
type Command struct {
	// Name is the word that selects it: "tail", "check".
	Name string
	// Args is its synopsis after the name, for the group's help:
	// "[flags] TEAM".
	Args string
	// Summary is one line for the group's help.
	Summary string
	// Run runs it with the arguments after its name and returns the exit
	// code. It answers -h itself (a FlagSet does).
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// Group, instead of Run, makes the command a group of subcommands:
	// "rules" with check, test and backtest.
	Group *Group
}

// run runs c: its Run, or its Group's.
func (c Command) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if c.Group != nil {
		return c.Group.Run(ctx, args, stdout, stderr)
	}
	return c.Run(ctx, args, stdout, stderr)
}

// Group is a command made of subcommands: "switchboard" itself, or
// "switchboard rules" (a Command's Group), so groups nest.
type Group struct {
	// Name is the group's command line: "switchboard rules".
	Name string
	// About says what the group is for; help prints it first.
	About string
	// Commands are the subcommands, in the order help lists them.
	Commands []Command
	// Default names the subcommand that runs when no subcommand is named
	// or the first argument is a flag ("switchboard -config x.yaml" is
	// "switchboard run -config x.yaml"); empty: none, and help is shown.
	Default string
	// Footer is printed after the list of commands.
	Footer string
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// Run dispatches args to the subcommand they name. "-h", "--help" and
// "help" print the group's help on stdout and return 0; "help COMMAND"
// runs COMMAND -h. No subcommand (without a Default) or an unknown one
// prints the problem and the help on stderr and returns ExitUsage.
func (g *Group) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !isHelp(args[0]) {
		if c, ok := g.find(g.Default); ok {
			return c.run(ctx, args, stdout, stderr)
		}
		if len(args) == 0 {
			fmt.Fprintf(stderr, "%s: which command?\n\n", g.Name)
		} else {
			fmt.Fprintf(stderr, "%s: %s: give a command first\n\n", g.Name, args[0])
		}
		g.PrintHelp(stderr)
		return ExitUsage
	}
	if isHelp(args[0]) {
		if len(args) > 1 {
			if c, ok := g.find(args[1]); ok {
				return c.run(ctx, []string{"-h"}, stdout, stderr)
			}
		}
		g.PrintHelp(stdout)
		return ExitOK
	}
	c, ok := g.find(args[0])
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n", g.Name, args[0])
		g.PrintHelp(stderr)
		return ExitUsage
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func (g *Group) find(name string) (Command, bool) {
	if name == "" {
		return Command{}, false
	}
	for _, c := range g.Commands {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// Walk calls fn with the full name ("switchboard rules check") of every
// command of g and of its groups, depth first, groups before their
// commands.
func (g *Group) Walk(fn func(name string, c Command)) {
	for _, c := range g.Commands {
		fn(g.Name+" "+c.Name, c)
		if c.Group != nil {
			c.Group.Walk(fn)
		}
	}
}

// PrintHelp writes the group's help: what it is for, its commands with
// their synopses, and the footer.
func (g *Group) PrintHelp(w io.Writer) {
	if g.About != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(g.About))
	}
	fmt.Fprintf(w, "Usage:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range g.Commands {
		syn := c.Name
		if c.Args != "" {
			syn += " " + c.Args
		}
		fmt.Fprintf(tw, "  %s %s\t%s\n", g.Name, syn, c.Summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun \"%s COMMAND -h\" for a command's flags.\n", g.Name)
	if g.Footer != "" {
		fmt.Fprintf(w, "%s\n", strings.TrimRight(g.Footer, "\n"))
	}
}

// FlagSet is the flags of one command. Its help is the command's usage
// text followed by the flags and their defaults.
type FlagSet struct {
	*flag.FlagSet
	name           string
	usage          string
	stdout, stderr io.Writer
}

// NewFlagSet returns the flag set of the command named name ("switchboard
// tail"); usage is the help text printed before the flags: the synopsis
// ("usage: switchboard tail [flags] TEAM") and what the command does.
func NewFlagSet(name, usage string, stdout, stderr io.Writer) *FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	f := &FlagSet{FlagSet: fs, name: name, usage: strings.TrimRight(usage, "\n") + "\n", stdout: stdout, stderr: stderr}
	fs.SetOutput(stderr)
	fs.Usage = func() {} // Parse prints help and hints itself
	return f
}

// PrintHelp writes the usage text and the flags to w.
func (f *FlagSet) PrintHelp(w io.Writer) {
	fmt.Fprint(w, f.usage)
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags (one dash or two; before or after the arguments):")
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(f.stderr)
}

// Parse parses args. Flags may come before, between and after the
// positional arguments, which it returns in order; "--" ends the flags.
// After -h or --help it prints the help on stdout and returns
// flag.ErrHelp; after a bad flag it prints the problem and a hint on
// stderr and returns the error. ExitCode turns either into an exit code.
func (f *FlagSet) Parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.PrintHelp(f.stdout)
				return nil, err
			}
			// flag has printed the problem.
			fmt.Fprintf(f.stderr, "Run \"%s -h\" for help.\n", f.name)
			return nil, err
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// ExitCode is the exit code after Parse returned err: ExitOK after help,
// ExitUsage after a bad flag.
func ExitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitUsage
}

// Usagef reports a wrong command line: "NAME: message" and a hint to run
// NAME -h, on stderr. It returns ExitUsage.
func (f *FlagSet) Usagef(format string, args ...any) int {
	fmt.Fprintf(f.stderr, "%s: %s\nRun \"%s -h\" for help.\n", f.name, fmt.Sprintf(format, args...), f.name)
	return ExitUsage
}

// Failf reports that the command failed: "NAME: message" on stderr. It
// returns ExitFailed.
func (f *FlagSet) Failf(format string, args ...any) int {
	fmt.Fprintf(f.stderr, "%s: %s\n", f.name, fmt.Sprintf(format, args...))
	return ExitFailed
}
