package cli

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
)

// echo is a command that parses -v and records its positional arguments.
func echo(got *[]string) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(_ context.Context, args []string, stdout, stderr io.Writer) int {
		fs := NewFlagSet("prog echo", "usage: prog echo [-v] ARGS...", stdout, stderr)
		v := fs.Bool("v", false, "loud")
		pos, err := fs.Parse(args)
		if err != nil {
			return ExitCode(err)
		}
		if *v {
			pos = append(pos, "(v)")
		}
		*got = pos
		return ExitOK
	}
}

func TestGroup(t *testing.T) {
	var got []string
	inner := &Group{Name: "prog sub", About: "Inner things.", Commands: []Command{{Name: "echo", Summary: "echo", Run: echo(&got)}}}
	g := &Group{
		Name: "prog", About: "prog does things.", Default: "echo",
		Commands: []Command{
			{Name: "echo", Args: "[-v] ARGS", Summary: "print the arguments", Run: echo(&got)},
			{Name: "sub", Args: "echo", Summary: "a group", Group: inner},
		},
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // contained
		stderr     string // contained
		positional []string
	}{
		{"help", []string{"-h"}, 0, "prog does things.", "", nil},
		{"--help", []string{"--help"}, 0, "prog echo [-v] ARGS", "", nil},
		{"help word", []string{"help"}, 0, "Run \"prog COMMAND -h\"", "", nil},
		{"help of a command", []string{"help", "echo"}, 0, "usage: prog echo [-v] ARGS...", "", nil},
		{"command -h", []string{"echo", "-h"}, 0, "Flags (one dash or two", "", nil},
		{"command --help after args", []string{"echo", "a", "--help"}, 0, "usage: prog echo", "", nil},
		{"nested help", []string{"sub", "-h"}, 0, "Inner things.", "", nil},
		{"nested command help", []string{"sub", "echo", "-h"}, 0, "usage: prog echo", "", nil},
		{"unknown command", []string{"frob"}, 2, "", `prog: unknown command "frob"`, nil},
		{"nested without command", []string{"sub"}, 2, "", "prog sub: which command?", nil},
		{"nested flag first", []string{"sub", "-v"}, 2, "", "prog sub: -v: give a command first", nil},
		{"default command", nil, 0, "", "", nil},
		{"default command with a flag", []string{"-v", "x"}, 0, "", "", []string{"x", "(v)"}},
		{"flags after arguments", []string{"echo", "a", "-v", "b"}, 0, "", "", []string{"a", "b", "(v)"}},
		{"double dash ends flags", []string{"echo", "-v", "--", "-x", "-v"}, 0, "", "", []string{"-x", "-v", "(v)"}},
		{"unknown flag", []string{"echo", "a", "-x"}, 2, "", "Run \"prog echo -h\" for help.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			var out, errOut bytes.Buffer
			code := g.Run(context.Background(), tt.args, &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tt.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", out.String(), tt.stdout, errOut.String(), tt.stderr)
			}
			if tt.code == 0 && tt.stdout != "" && errOut.Len() > 0 {
				t.Fatalf("help wrote to stderr: %q", errOut.String())
			}
			if tt.positional != nil && !reflect.DeepEqual(got, tt.positional) {
				t.Fatalf("positional %q, want %q", got, tt.positional)
			}
		})
	}
}

func TestWalk(t *testing.T) {
	inner := &Group{Name: "p g", Commands: []Command{{Name: "a"}, {Name: "b"}}}
	g := &Group{Name: "p", Commands: []Command{{Name: "x"}, {Name: "g", Group: inner}}}
	var names []string
	g.Walk(func(name string, _ Command) { names = append(names, name) })
	if want := []string{"p x", "p g", "p g a", "p g b"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("walked %q, want %q", names, want)
	}
}

func TestUsagefAndFailf(t *testing.T) {
	var out, errOut bytes.Buffer
	fs := NewFlagSet("prog x", "usage: prog x", &out, &errOut)
	if code := fs.Usagef("bad %d", 1); code != ExitUsage || errOut.String() != "prog x: bad 1\nRun \"prog x -h\" for help.\n" {
		t.Fatalf("Usagef: %d %q", code, errOut.String())
	}
	errOut.Reset()
	if code := fs.Failf("broke"); code != ExitFailed || errOut.String() != "prog x: broke\n" {
		t.Fatalf("Failf: %d %q", code, errOut.String())
	}
}

func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/switchboard/switchboard", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     []string
	}{
		{"from build info", bi, "", []string{"switchboard v1.2.0", "commit abc123 (2026-01-02T03:04:05Z), with uncommitted changes", "built with go1.26.0"}},
		{"override", bi, "v9", []string{"switchboard v9\ncommit abc123"}},
		{"no vcs", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", []string{"switchboard (devel)", "commit unknown"}},
		{"no build info", nil, "", []string{"switchboard (unknown)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Version(tt.bi, tt.override)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Fatalf("%q lacks %q", got, w)
				}
			}
		})
	}
}
