package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchboard/switchboard/internal/config"
)

// configCmd implements "switchboard config check [FILE]".
func configCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" || len(args) > 2 {
		fmt.Fprintln(stderr, "usage: switchboard config check [FILE]   (FILE defaults to config.yaml)")
		return 2
	}
	path := "config.yaml"
	if len(args) == 2 {
		path = args[1]
	}
	if _, err := config.Load(path); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return 0
}
