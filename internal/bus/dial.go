package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/config"
)

// Dial connects a client tool (tail, backtest, dead-letter commands) to the
// backbone a daemon with cfg uses: the embedded server's loopback listener,
// or the external nats.url with its credentials. It starts nothing.
func Dial(ctx context.Context, cfg *config.Config, name string) (*nats.Conn, jetstream.JetStream, error) {
	url := cfg.NATS.URL
	opts := []nats.Option{nats.Name(name)}
	if url == "" {
		url = "nats://" + cfg.NATS.Embedded.Listen
	} else {
		extra, err := clientOptions(cfg.NATS)
		if err != nil {
			return nil, nil, err
		}
		opts = append(extra, nats.Name(name))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		hint := ""
		if cfg.NATS.URL == "" {
			hint = " (is the daemon running? its embedded NATS listens there)"
		}
		return nil, nil, fmt.Errorf("connecting to NATS at %s%s: %w", cfg.NATS.Embedded.Listen, hint, redactURL(err, cfg.NATS.URL))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("opening JetStream: %w", err)
	}
	return nc, js, nil
}
