package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchboard/switchboard/rules"
)

// rulesCmd implements "switchboard rules check [FILE]"; the rules issue adds
// test and backtest.
func rulesCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" || len(args) > 2 {
		fmt.Fprintln(stderr, "usage: switchboard rules check [FILE]   (FILE defaults to rules.yaml)")
		return 2
	}
	path := "rules.yaml"
	if len(args) == 2 {
		path = args[1]
	}
	if _, err := rules.Load(path); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return 0
}
