// Package email is the IMAP email connector: it watches mailboxes (IDLE
// where the server supports it, polling otherwise), turns every customer
// mail into an envelope — whatever its MIME shape and charset — and drops
// auto-replies, bounces, list mail and mail from Switchboard's own or the
// teams' addresses. A mail is marked seen or moved only after JetStream
// acked its envelope. The account's Sent mailbox, read read-only, tells
// when the company answered: each reply there becomes a response linked by
// In-Reply-To / References to the customer's mail. See docs/email.md.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
)

// TLSMode is how the connection to the IMAP server is protected.
type TLSMode string

// The TLS modes of an account.
const (
	// TLSImplicit speaks TLS from the first byte (port 993).
	TLSImplicit TLSMode = "implicit"
	// TLSStartTLS upgrades a plain connection with STARTTLS (port 143).
	TLSStartTLS TLSMode = "starttls"
	// TLSNone sends everything in clear text; for loopback hosts only.
	TLSNone TLSMode = "none"
)

// Action is what happens to a mail once its envelope was acked.
type Action string

// The actions after ingesting.
const (
	// ActionSeen sets the \Seen flag.
	ActionSeen Action = "seen"
	// ActionMove moves the mail to Options.MoveTo.
	ActionMove Action = "move"
	// ActionNone leaves the mail as it is (the mailbox is opened read-only).
	ActionNone Action = "none"
)

// Options configures the connector of one account.
type Options struct {
	// Account names the account: the connector is "email.<Account>".
	Account string
	// Addr is the server's host:port.
	Addr string
	// TLS is the connection protection.
	TLS TLSMode
	// TLSConfig overrides the TLS settings (RootCAs for a private CA). nil
	// uses the system roots; ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	// Username and Password log in.
	Username string
	Password secret.Secret
	// Mailboxes are watched, each over its own connection.
	Mailboxes []string
	// AfterIngest is what happens to an ingested mail.
	AfterIngest Action
	// MoveTo is the folder for ActionMove; it is created when missing.
	MoveTo string
	// IDLE waits with IMAP IDLE when the server supports it.
	IDLE bool
	// PollInterval is the polling period, and the safety-net period while
	// idling.
	PollInterval time.Duration
	// MaxMessageBytes caps how much of one mail is fetched.
	MaxMessageBytes int64
	// MaxTextBytes caps the readable text made from one mail (0: 128 KiB):
	// HTML to text and every other text transformation stop there.
	MaxTextBytes int
	// TrustedAuthservIDs name the receiving servers whose
	// Authentication-Results headers are recorded in the envelope (the
	// authserv-id, the header's first word); NoAuthservID trusts headers
	// without one (Microsoft 365). Empty: no sender verdict is recorded.
	TrustedAuthservIDs []string
	// Backfill is how far back the first start reads (0: only new mail),
	// in the watched mailboxes and in the Sent mailbox.
	Backfill time.Duration
	// SentMailbox is the mailbox the account's sent mail is kept in,
	// read (read-only, over its own connection) for the company's
	// responses when the daemon tracks them; SentAuto finds it by its
	// \Sent attribute. Empty: responses by mail are not detected.
	SentMailbox string
	// IngestLists ingests list and bulk mail instead of dropping it.
	IngestLists bool
	// OwnAddresses are addresses ("a@b") and domains ("@b") whose mail is
	// dropped: Switchboard's own and the teams'.
	OwnAddresses []string
	// Metrics records the connector's metrics; nil records nothing.
	Metrics *Metrics
	// Log receives the connector's logs; nil discards them.
	Log *zap.Logger
}

// Connector watches the mailboxes of one IMAP account.
type Connector struct {
	o      Options
	filter mailFilter
	policy readPolicy
	log    *zap.Logger
	now    func() time.Time
	// ioTimeout is how long the server may stay silent while a command
	// waits for its answer (see deadlineConn).
	ioTimeout time.Duration

	mu sync.Mutex
	// unfinished holds, per mailbox, the mail whose reading last ended
	// with an error in this process rather than with the process (see
	// beginAttempt).
	unfinished map[string]imap.UID
}

// New checks o and returns the account's connector.
func New(o Options) (*Connector, error) {
	var errs []error
	if !message.ValidToken(o.Account) {
		errs = append(errs, fmt.Errorf("account name %q: use lowercase letters, digits, '-' or '_'", o.Account))
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		errs = append(errs, fmt.Errorf("address %q: want host:port", o.Addr))
	}
	switch o.TLS {
	case TLSImplicit, TLSStartTLS, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("tls %q: use implicit, starttls or none", o.TLS))
	}
	switch o.AfterIngest {
	case ActionSeen, ActionNone:
	case ActionMove:
		if o.MoveTo == "" {
			errs = append(errs, errors.New("after_ingest move needs a folder to move to"))
		}
	default:
		errs = append(errs, fmt.Errorf("after_ingest %q: use seen, move or none", o.AfterIngest))
	}
	if len(o.Mailboxes) == 0 {
		errs = append(errs, errors.New("no mailboxes to watch"))
	}
	if err := checkSentMailbox(o); err != nil {
		errs = append(errs, err)
	}
	if o.PollInterval <= 0 {
		errs = append(errs, errors.New("poll interval must be positive"))
	}
	if o.MaxMessageBytes < 1024 {
		errs = append(errs, errors.New("max message bytes must be at least 1024"))
	}
	if o.MaxTextBytes != 0 && o.MaxTextBytes < minMaxText {
		errs = append(errs, fmt.Errorf("max text bytes must be at least %d", minMaxText))
	}
	for _, id := range o.TrustedAuthservIDs {
		if id == "" || strings.ContainsAny(id, " \t\r\n;") {
			errs = append(errs, fmt.Errorf("trusted authserv-id %q: want one word, such as mx.example.com, or %q", id, NoAuthservID))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("email account %q: %w", o.Account, err)
	}
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	return &Connector{
		o:      o,
		filter: mailFilter{own: newOwnAddresses(o.OwnAddresses), ingestLists: o.IngestLists},
		policy: readPolicy{maxText: o.MaxTextBytes, trusted: newAuthservIDs(o.TrustedAuthservIDs)},
		log:    log.With(zap.String("account", o.Account)),
		now:    time.Now,
		// The longest silence a healthy server keeps is a whole poll
		// interval (while idling, or between polls).
		ioTimeout:  o.PollInterval + serverSilence,
		unfinished: map[string]imap.UID{},
	}, nil
}

// Name implements connectors.Connector: "email.<account>".
func (c *Connector) Name() string { return "email." + c.o.Account }

// Run watches every mailbox of the account until ctx ends; it returns nil
// then. When one mailbox fails (connection lost, login rejected) the others
// stop too and Run returns the error, so the supervisor restarts the
// account from its checkpoint.
func (c *Connector) Run(ctx context.Context, h *connectors.Handle) error {
	raw, err := h.Checkpoint(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	cp, err := decodeCheckpoint(raw)
	if err != nil {
		// Starting over is safe: what is read again is deduplicated by
		// Message-ID in the ingest stream.
		c.log.Error("email checkpoint unreadable; reading the mailboxes as on a first start", zap.Error(err))
		h.Failed(err)
	}
	p := newProgress(cp, h)

	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := func(what string, watch func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := watch(wctx)
			if err == nil && wctx.Err() == nil {
				err = fmt.Errorf("watching %s stopped without an error", what)
			}
			if err != nil && wctx.Err() == nil {
				cancel(err)
			}
		}()
	}
	for _, mb := range c.o.Mailboxes {
		start(fmt.Sprintf("%q", mb), func(ctx context.Context) error { return c.watch(ctx, h, p, mb) })
	}
	switch {
	case c.o.SentMailbox == "":
	case h.TracksResponses():
		start("the Sent mailbox", func(ctx context.Context) error { return c.watchSent(ctx, h, p.sentView()) })
	default:
		c.log.Info("responses are not tracked; the Sent mailbox is not read", zap.String("sent_mailbox", c.o.SentMailbox))
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return context.Cause(wctx)
}

// watch reads one mailbox until ctx ends (nil) or the connection fails.
func (c *Connector) watch(ctx context.Context, h *connectors.Handle, p *progress, mailbox string) error {
	s, err := c.open(ctx, mailbox)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer s.close()
	log := c.log.With(zap.String("mailbox", mailbox))
	if c.o.AfterIngest == ActionMove {
		if err := c.ensureFolder(s); err != nil {
			return c.quiet(ctx, err)
		}
	}
	return c.follow(ctx, h, p, s, log)
}

// follow reads the mailbox selected in s, and then the mail arriving in
// it, until ctx ends (nil) or the connection fails.
func (c *Connector) follow(ctx context.Context, h *connectors.Handle, p *progress, s *session, log *zap.Logger) error {
	idle := c.o.IDLE && s.canIdle()
	if c.o.IDLE && !idle {
		log.Info("server does not support IDLE; polling", zap.Duration("interval", c.o.PollInterval))
	}
	log.Info("watching mailbox", zap.Uint32("uidvalidity", s.sel.UIDValidity), zap.Bool("idle", idle))
	for {
		// A new-mail report from before this sync is covered by it.
		select {
		case <-s.newMail:
		default:
		}
		if err := c.sync(ctx, h, p, s, log); err != nil {
			return c.quiet(ctx, err)
		}
		h.Succeeded()
		wait := s.waitPoll
		if idle {
			wait = s.waitIdle
		}
		err := wait(ctx, c.o.PollInterval)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// quiet turns an error caused by ctx ending (the connection was closed
// under a command) into nil.
func (c *Connector) quiet(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
