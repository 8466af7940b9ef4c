package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/switchboard/switchboard/connectors"
)

// dialTimeout bounds connecting, the TLS handshake and the greeting.
const dialTimeout = 30 * time.Second

// serverSilence is how long, beyond the poll interval, the server may stay
// silent before the connection is taken for hung.
const serverSilence = 2 * time.Minute

// session is one IMAP connection with one mailbox selected.
type session struct {
	cl      *imapclient.Client
	mailbox string
	sel     *imap.SelectData
	// newMail receives a value when the server reports a new message count
	// (EXISTS), typically while idling.
	newMail chan struct{}
	// stop ends the context watch that closes the connection.
	stop func() bool
	// sent marks the Sent mailbox, read (read-only) for the company's
	// responses rather than ingested.
	sent bool
}

// open connects, logs in and selects the watched mailbox, read-only with
// after_ingest: none. The connection is closed as soon as ctx ends, which
// makes any blocked command return.
func (c *Connector) open(ctx context.Context, mailbox string) (*session, error) {
	s, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.selectMailbox(c.o.Addr, mailbox, c.o.AfterIngest == ActionNone); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// connect connects and logs in; no mailbox is selected yet. The connection
// is closed as soon as ctx ends.
func (c *Connector) connect(ctx context.Context) (*session, error) {
	s := &session{newMail: make(chan struct{}, 1)}
	opts := &imapclient.Options{
		TLSConfig:   c.tlsConfig(),
		WordDecoder: newWordDecoder(),
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := c.dial(dctx, opts.TLSConfig)
	if err != nil {
		return nil, fmt.Errorf("connecting to IMAP server %s (tls: %s): %w", c.o.Addr, c.o.TLS, err)
	}
	conn = &deadlineConn{Conn: conn, silence: c.ioTimeout}
	// Until the greeting (and STARTTLS) is done, the dial timeout applies.
	stopHandshake := context.AfterFunc(dctx, func() { conn.Close() })
	if c.o.TLS == TLSStartTLS {
		s.cl, err = imapclient.NewStartTLS(conn, opts)
		if err != nil {
			return nil, fmt.Errorf("STARTTLS with %s: %w", c.o.Addr, err)
		}
	} else {
		s.cl = imapclient.New(conn, opts)
	}
	if err := s.cl.WaitGreeting(); err != nil {
		s.cl.Close()
		return nil, fmt.Errorf("reading the greeting of %s: %w", c.o.Addr, err)
	}
	if !stopHandshake() {
		s.cl.Close()
		return nil, fmt.Errorf("connecting to IMAP server %s: %w", c.o.Addr, dctx.Err())
	}
	s.stop = context.AfterFunc(ctx, func() { s.cl.Close() })
	if err := c.login(s.cl); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// selectMailbox selects mailbox on the server at addr; readOnly opens it
// with EXAMINE, under which the server changes nothing in it (no flag, not
// even \Recent).
func (s *session) selectMailbox(addr, mailbox string, readOnly bool) error {
	sel, err := s.cl.Select(mailbox, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err != nil {
		return fmt.Errorf("selecting mailbox %q on %s: %w", mailbox, addr, err)
	}
	s.mailbox, s.sel = mailbox, sel
	return nil
}

// dial opens the TCP (and, for implicit TLS, TLS) connection.
func (c *Connector) dial(ctx context.Context, cfg *tls.Config) (net.Conn, error) {
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	if c.o.TLS == TLSImplicit {
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"imap"}
		return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", c.o.Addr)
	}
	return d.DialContext(ctx, "tcp", c.o.Addr)
}

// tlsConfig is the TLS configuration for implicit TLS and STARTTLS: the
// configured roots (the system's when none), verifying the host name.
func (c *Connector) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if c.o.TLSConfig != nil {
		cfg = c.o.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(c.o.Addr); err == nil {
			cfg.ServerName = host
		}
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// login authenticates with LOGIN. A rejected login wraps
// connectors.ErrUnauthorized. The password never appears in an error.
func (c *Connector) login(cl *imapclient.Client) error {
	if cl.State() == imap.ConnStateAuthenticated {
		return nil // PREAUTH
	}
	if cl.Caps().Has(imap.CapLoginDisabled) {
		return fmt.Errorf("logging in to %s as %q: the server refuses LOGIN on this connection (LOGINDISABLED); use tls: implicit or starttls: %w",
			c.o.Addr, c.o.Username, connectors.ErrUnauthorized)
	}
	err := cl.Login(c.o.Username, c.o.Password.Reveal()).Wait()
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeNo {
		return fmt.Errorf("logging in to %s as %q: %w: %v", c.o.Addr, c.o.Username, connectors.ErrUnauthorized, err)
	}
	if err != nil {
		return fmt.Errorf("logging in to %s as %q: %w", c.o.Addr, c.o.Username, err)
	}
	return nil
}

// close logs out (briefly) and closes the connection.
func (s *session) close() {
	if s.stop != nil {
		s.stop()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.cl.Logout().Wait()
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	s.cl.Close()
}

// canIdle reports whether the server announced IDLE (or IMAP4rev2, which
// includes it).
func (s *session) canIdle() bool { return canIdle(s.cl.Caps()) }

func canIdle(caps imap.CapSet) bool {
	return caps.Has(imap.CapIdle) || caps.Has(imap.CapIMAP4rev2)
}

// waitIdle idles until the server reports new mail, interval passes (a
// safety-net poll) or ctx ends.
func (s *session) waitIdle(ctx context.Context, interval time.Duration) error {
	idle, err := s.cl.Idle()
	if err != nil {
		return fmt.Errorf("starting IDLE on %q: %w", s.mailbox, err)
	}
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-s.newMail:
	case <-t.C:
	case <-ctx.Done():
	case <-s.cl.Closed():
	}
	if err := idle.Close(); err != nil {
		return fmt.Errorf("ending IDLE on %q: %w", s.mailbox, err)
	}
	if err := idle.Wait(); err != nil {
		return fmt.Errorf("IDLE on %q: %w", s.mailbox, err)
	}
	return nil
}

// waitPoll sleeps for interval (or until ctx ends), then sends NOOP so the
// server reports mail that arrived meanwhile.
func (s *session) waitPoll(ctx context.Context, interval time.Duration) error {
	t := time.NewTimer(interval)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil
	case <-s.cl.Closed():
		return fmt.Errorf("connection to the server closed while waiting to poll %q", s.mailbox)
	}
	if err := s.cl.Noop().Wait(); err != nil {
		return fmt.Errorf("NOOP on %q: %w", s.mailbox, err)
	}
	return nil
}

// deadlineConn bounds how long a read waits. imapclient sets read deadlines
// only once an answer has started, so a server that stops answering while
// the TCP connection stays up would block a command forever (ctx still
// closes the connection, but the mailbox would stall silently while the
// daemon runs). Whenever no deadline is set, each Read gets one silence
// from now: the read fails, the connection closes, the watcher returns the
// error and the supervisor reconnects.
type deadlineConn struct {
	net.Conn
	silence time.Duration

	mu  sync.Mutex
	set bool // the client set a read deadline of its own
}

// Read reads with the client's deadline, or else with one silence from
// now; when that silence passes, the connection is closed (imapclient would
// otherwise read on, waiting again).
func (c *deadlineConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	set := c.set
	c.mu.Unlock()
	if set || c.silence <= 0 {
		return c.Conn.Read(b)
	}
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.silence)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.Conn.Close()
		err = fmt.Errorf("the server sent nothing for %s: %w", c.silence, err)
	}
	return n, err
}

// SetReadDeadline records whether the client set a deadline of its own.
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.set = !t.IsZero()
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline sets both deadlines, recording the read one.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.set = !t.IsZero()
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}
