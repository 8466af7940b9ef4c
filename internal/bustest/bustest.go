// Package bustest starts a real embedded JetStream backbone for tests.
package bustest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
)

// Config returns the default configuration with the embedded server on a
// random loopback port and its store in a temporary directory.
func Config(t testing.TB) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.NATS.Embedded.Listen = "127.0.0.1:0"
	return &cfg
}

// Open starts an embedded backbone for cfg (Config(t) when nil) and closes
// it when the test ends.
func Open(t testing.TB, cfg *config.Config) *bus.Bus {
	t.Helper()
	if cfg == nil {
		cfg = Config(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg, Logger(t))
	if err != nil {
		t.Fatalf("starting embedded NATS: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// Logger logs to the test at warn level and above.
func Logger(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// Dial opens a second, authenticated connection to the embedded backbone b
// started with cfg, as another process (a CLI command, a second daemon)
// would, and closes it when the test ends.
func Dial(t testing.TB, cfg *config.Config, b *bus.Bus, name string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	c := *cfg
	c.NATS.Embedded.Listen = strings.TrimPrefix(b.ClientURL(), "nats://")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, js, err := bus.Dial(ctx, &c, name)
	if err != nil {
		t.Fatalf("dialing the embedded NATS: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc, js
}
