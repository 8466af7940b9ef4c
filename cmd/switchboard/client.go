package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
)

// dialNATS connects a CLI command to the daemon's NATS (see bus.Dial).
func dialNATS(ctx context.Context, cfg *config.Config) (*nats.Conn, jetstream.JetStream, error) {
	return bus.Dial(ctx, cfg, "switchboard-cli")
}

// loadAndDial loads the configuration at cfgPath and connects a CLI
// command to the daemon's NATS. On failure it says why on stderr (a
// connection failure after the command's name) and returns false; on
// success the caller closes nc.
func loadAndDial(ctx context.Context, cfgPath, command string, stderr io.Writer) (*config.Config, *nats.Conn, jetstream.JetStream, bool) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, nil, false
	}
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, command+":", err)
		return nil, nil, nil, false
	}
	return cfg, nc, js, true
}

// printJSON writes v as indented JSON for a command's -json output; on
// failure it says so on stderr, prefixed with the command, and returns 1.
func printJSON(stdout, stderr io.Writer, command string, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "%s: writing JSON: %v\n", command, err)
		return 1
	}
	return 0
}

// printResult prints a command's result on stdout: v as indented JSON
// when asJSON (its -json flag), else as text by writeText. On failure it
// says so on stderr, prefixed with the command, and returns 1.
func printResult(stdout, stderr io.Writer, command string, asJSON bool, v any, writeText func(io.Writer) error) int {
	if asJSON {
		return printJSON(stdout, stderr, command, v)
	}
	if err := writeText(stdout); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", command, err)
		return 1
	}
	return 0
}
