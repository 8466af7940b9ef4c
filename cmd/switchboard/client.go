package main

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
)

// dialNATS connects a CLI command to the daemon's NATS (see bus.Dial).
func dialNATS(ctx context.Context, cfg *config.Config) (*nats.Conn, jetstream.JetStream, error) {
	return bus.Dial(ctx, cfg, "switchboard-cli")
}
