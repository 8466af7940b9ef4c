// Package bus sets up the NATS JetStream backbone: it starts the embedded
// nats-server or connects to an external one, and creates (or updates) the
// ingest, team-queue and dead-letter streams and the checkpoint KV bucket.
package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/config"
)

// Bus is a connected JetStream backbone with its streams in place.
type Bus struct {
	// NC is the NATS connection.
	NC *nats.Conn
	// JS is the JetStream API on NC.
	JS jetstream.JetStream
	// KV is the bucket holding connector checkpoints.
	KV jetstream.KeyValue
	// Subjects names the subjects and streams in use.
	Subjects Subjects

	srv    *server.Server
	unlock func()
	log    *zap.Logger
	// closed is closed by the connection's closed handler.
	closed    chan struct{}
	closeOnce sync.Once
	full      fullState
}

// Open starts or connects to NATS as cfg says, then creates the streams and
// the KV bucket. Close releases everything it started.
func Open(ctx context.Context, cfg *config.Config, log *zap.Logger) (*Bus, error) {
	b := &Bus{Subjects: NewSubjects(cfg.Streams), log: log, closed: make(chan struct{})}
	onClosed := nats.ClosedHandler(func(*nats.Conn) { close(b.closed) })
	var err error
	if cfg.NATS.URL == "" {
		var e *embedded
		e, err = startEmbedded(cfg, log)
		if err != nil {
			return nil, err
		}
		b.srv, b.unlock = e.srv, e.unlock
		b.NC, err = nats.Connect("", nats.InProcessServer(b.srv), e.auth, nats.Name("switchboard"), nats.MaxReconnects(-1), onClosed)
	} else {
		var opts []nats.Option
		opts, err = clientOptions(cfg.NATS)
		if err == nil {
			b.NC, err = nats.Connect(cfg.NATS.URL, append(opts, onClosed)...)
		}
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connecting to NATS: %w", redactURL(err, cfg.NATS.URL))
	}
	b.JS, err = jetstream.New(b.NC)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	if err := b.ensure(ctx, cfg.Streams); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// ClientURL is the URL of the embedded server's listener ("" when external
// or when the listener is off).
func (b *Bus) ClientURL() string {
	if b.srv == nil || b.srv.Addr() == nil {
		return ""
	}
	return b.srv.ClientURL()
}

// drainTimeout bounds how long Close waits for the connection to drain.
const drainTimeout = 5 * time.Second

// Close drains the connection and shuts the embedded server down. It is
// safe to call more than once.
func (b *Bus) Close() { b.closeOnce.Do(b.close) }

func (b *Bus) close() {
	if b.NC != nil {
		if b.NC.Drain() == nil {
			// Drain closes the connection when it is done.
			t := time.NewTimer(drainTimeout)
			select {
			case <-b.closed:
			case <-t.C:
			}
			t.Stop()
		}
		b.NC.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	if b.unlock != nil {
		b.unlock()
	}
}

// Ready reports why the backbone cannot serve, or nil.
func (b *Bus) Ready(ctx context.Context) error {
	if b.NC == nil || !b.NC.IsConnected() {
		return errors.New("NATS not connected")
	}
	if err := b.fullErr(); err != nil {
		return err
	}
	for _, name := range []string{b.Subjects.IngestStream, b.Subjects.TeamStream, b.Subjects.DeadStream} {
		if _, err := b.JS.Stream(ctx, name); err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
	}
	return nil
}

func clientOptions(c config.NATS) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name("switchboard"),
		nats.Timeout(time.Duration(c.ConnectTimeout)),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(false),
	}
	switch {
	case c.CredsFile != "":
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading nats.nkey_file: %w", err)
		}
		opts = append(opts, o)
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token.Reveal()))
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password.Reveal()))
	}
	if c.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLS.CAFile))
	}
	if c.TLS.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile))
	}
	return opts, nil
}

// redactURL removes credentials embedded in a NATS URL from an error message.
func redactURL(err error, url string) error {
	if err == nil || !strings.Contains(url, "@") {
		return err
	}
	msg := err.Error()
	for _, u := range strings.Split(url, ",") {
		if i := strings.Index(u, "@"); i >= 0 {
			if j := strings.Index(u, "://"); j >= 0 && j < i {
				msg = strings.ReplaceAll(msg, u[j+3:i], "[redacted]")
			}
		}
	}
	return errors.New(msg)
}

// natsLogger forwards nats-server logs to zap.
type natsLogger struct{ l *zap.Logger }

func (n *natsLogger) Noticef(f string, a ...any) { n.l.Debug(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Warnf(f string, a ...any)   { n.l.Warn(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Fatalf(f string, a ...any)  { n.l.Error(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Errorf(f string, a ...any)  { n.l.Error(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Debugf(f string, a ...any)  { n.l.Debug(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Tracef(f string, a ...any)  {}
