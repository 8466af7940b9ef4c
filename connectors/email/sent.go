package email

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
)

// SentAuto as Options.SentMailbox finds the Sent mailbox by the \Sent
// attribute the server gives it (SPECIAL-USE, RFC 6154).
const SentAuto = "auto"

// sentBatch is how many sent mails' headers one FETCH reads; the
// responses of a batch are published, then the batch is checkpointed.
const sentBatch = 100

// errNoSentMailbox: the Sent mailbox is not there (yet).
var errNoSentMailbox = errors.New("the Sent mailbox is not there")

// checkSentMailbox refuses a Sent mailbox that is also a watched mailbox
// (the company's replies would be ingested as customer mail) or the folder
// ingested mail is moved to (customer mail would be taken for replies).
func checkSentMailbox(o Options) error {
	if o.SentMailbox == "" || o.SentMailbox == SentAuto {
		return nil
	}
	if clash := sentClash(o, o.SentMailbox); clash != "" {
		return fmt.Errorf("sent mailbox %q is also %s", o.SentMailbox, clash)
	}
	return nil
}

// sentClash says what else mailbox is to the account: a watched mailbox,
// the move_to folder, or nothing ("").
func sentClash(o Options, mailbox string) string {
	for _, mb := range o.Mailboxes {
		if sameMailbox(mb, mailbox) {
			return "a watched mailbox"
		}
	}
	if o.AfterIngest == ActionMove && sameMailbox(o.MoveTo, mailbox) {
		return "the folder ingested mail is moved to"
	}
	return ""
}

// sameMailbox compares mailbox names: INBOX is case-insensitive (RFC 3501
// section 5.1), every other name is case-sensitive.
func sameMailbox(a, b string) bool {
	return a == b || strings.EqualFold(a, "INBOX") && strings.EqualFold(b, "INBOX")
}

// watchSent reads the Sent mailbox for the company's responses until ctx
// ends (nil) or the connection fails. A Sent mailbox that cannot be found
// or opened does not stop the account's watched mailboxes: it is logged
// and shown as the connector's last error, and looked for again every
// poll interval (a new account's Sent folder appears with its first
// sent mail).
func (c *Connector) watchSent(ctx context.Context, h *connectors.Handle, p *progress) error {
	s, err := c.openSent(ctx)
	for errors.Is(err, errNoSentMailbox) && ctx.Err() == nil {
		c.log.Error("Sent mailbox not available; responses by mail are not detected until it is", zap.Error(err),
			zap.Duration("retry_in", c.o.PollInterval))
		h.Failed(err)
		if backoff.Sleep(ctx, c.o.PollInterval) != nil {
			return nil
		}
		s, err = c.openSent(ctx)
	}
	if err != nil {
		return c.quiet(ctx, err)
	}
	defer s.close()
	return c.follow(ctx, h, p, s, c.log.With(zap.String("mailbox", s.mailbox), zap.Bool("sent", true)))
}

// openSent connects and opens the Sent mailbox read-only (EXAMINE): the
// connector never sets a flag in it nor moves its mail. A mailbox that is
// not there, or that the server refuses to open, is errNoSentMailbox.
func (c *Connector) openSent(ctx context.Context) (*session, error) {
	s, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	name := c.o.SentMailbox
	if name == SentAuto {
		if name, err = c.findSent(s); err != nil {
			s.close()
			return nil, err
		}
		if clash := sentClash(c.o, name); clash != "" {
			s.close()
			return nil, fmt.Errorf("%w: the mailbox marked \\Sent, %q, is also %s; set sent_mailbox to the right name", errNoSentMailbox, name, clash)
		}
	}
	if err := s.selectMailbox(c.o.Addr, name, true); err != nil {
		s.close()
		var imapErr *imap.Error
		if errors.As(err, &imapErr) {
			return nil, fmt.Errorf("%w: %w", errNoSentMailbox, err)
		}
		return nil, err
	}
	s.sent = true
	return s, nil
}

// findSent returns the name of the mailbox the server marks \Sent. With
// LIST-EXTENDED (or IMAP4rev2) and SPECIAL-USE only the special-use
// mailboxes are listed; otherwise every mailbox is, and their attributes
// are looked at all the same (servers that know SPECIAL-USE send them).
func (c *Connector) findSent(s *session) (string, error) {
	caps := s.cl.Caps()
	var opts *imap.ListOptions
	if caps.Has(imap.CapSpecialUse) && (caps.Has(imap.CapListExtended) || caps.Has(imap.CapIMAP4rev2)) {
		opts = &imap.ListOptions{SelectSpecialUse: true, ReturnSpecialUse: true}
	}
	list, err := s.cl.List("", "*", opts).Collect()
	if err != nil {
		return "", fmt.Errorf("listing the mailboxes of %s to find the Sent mailbox: %w", c.o.Addr, err)
	}
	var found []string
	for _, mb := range list {
		for _, a := range mb.Attrs {
			if strings.EqualFold(string(a), string(imap.MailboxAttrSent)) {
				found = append(found, mb.Mailbox)
				break
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: no mailbox on %s has the \\Sent attribute (SPECIAL-USE); set sent_mailbox to its name", errNoSentMailbox, c.o.Addr)
	case 1:
	default:
		c.log.Warn("several mailboxes are marked \\Sent; reading the first", zap.Strings("mailboxes", found))
	}
	c.log.Info("found the Sent mailbox", zap.String("mailbox", found[0]))
	return found[0], nil
}

// processSent reads the sent mails cands (past cp): their headers only,
// in batches. Each batch's responses are published, and acked, before the
// checkpoint passes the batch; a failure reads the batch again, and the
// responses stream stores each response once by its id.
func (c *Connector) processSent(ctx context.Context, h *connectors.Handle, p *progress, s *session, log *zap.Logger, cp mailboxCheckpoint, cands []candidate) error {
	for len(cands) > 0 {
		batch := cands[:min(len(cands), sentBatch)]
		cands = cands[len(batch):]
		heads, err := c.fetchHeaders(s, batch)
		if err != nil {
			return err
		}
		var rs []*message.Response
		for _, m := range batch {
			raw, ok := heads[m.uid]
			if !ok {
				log.Debug("sent mail vanished before it was read (expunged)", zap.Uint32("uid", uint32(m.uid)))
				continue
			}
			r, err := c.readSent(s, log, m, raw)
			if err != nil {
				return err
			}
			if r != nil {
				rs = append(rs, r)
			}
		}
		if err := h.PublishResponses(ctx, rs...); err != nil {
			return fmt.Errorf("publishing the responses in %q: %w", s.mailbox, err)
		}
		c.o.Metrics.responsesRead(c.o.Account, len(rs))
		for _, m := range batch {
			cp.LastUID = max(cp.LastUID, uint32(m.uid))
			if m.arrived.After(cp.LastArrival) {
				cp.LastArrival = m.arrived.UTC()
			}
		}
		if err := p.set(ctx, s.mailbox, cp); err != nil {
			return err
		}
	}
	return nil
}

// readSent makes the response of one sent mail from its header, or nil
// when it is none (counted and logged at debug level with the reason). A
// mail without a usable Message-ID is fetched whole (up to
// MaxMessageBytes), as its id is a hash that covers its body. An error
// means the connection failed.
func (c *Connector) readSent(s *session, log *zap.Logger, m candidate, head []byte) (*message.Response, error) {
	fields := []zap.Field{zap.Uint32("uid", uint32(m.uid))}
	pm, err := c.readSentHeader(head, log, m.uid)
	if err == nil && idFromMessageID(pm.MessageID) == "" {
		bodies, ferr := c.fetchBodies(s, []candidate{m})
		if ferr != nil {
			return nil, ferr
		}
		if raw, ok := bodies[m.uid]; ok {
			pm, err = c.readSentHeader(raw, log, m.uid)
		}
	}
	if err != nil {
		c.o.Metrics.sentMailSkipped(c.o.Account, skipUnreadable)
		log.Error("sent mail skipped: its header could not be read", append(fields, zap.Error(err))...)
		return nil, nil
	}
	r, skip, detail := sentResponse(pm, c.filter.own, m.arrived, c.now())
	fields = append(fields, zap.String("message_id", pm.MessageID))
	if skip != "" {
		c.o.Metrics.sentMailSkipped(c.o.Account, skip)
		log.Debug("sent mail is no response", append(fields, zap.String("reason", skip), zap.String("detail", detail))...)
		return nil, nil
	}
	if err := r.Validate(); err != nil {
		c.o.Metrics.sentMailSkipped(c.o.Account, skipUnreadable)
		log.Error("sent mail skipped: it makes an invalid response", append(fields, zap.Error(err))...)
		return nil, nil
	}
	log.Debug("response found", append(fields, zap.String("in_reply_to", r.InReplyTo), zap.Time("at", r.At))...)
	return r, nil
}

// readSentHeader reads the header of a sent mail (raw may go on with its
// body). A panic of the reader (a bug) is returned as an error.
func (c *Connector) readSentHeader(raw []byte, log *zap.Logger, uid imap.UID) (pm *parsedMail, err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("sent mail header reader panicked", zap.Uint32("uid", uint32(uid)), zap.Any("panic", v), zap.Stack("stack"))
			pm, err = nil, fmt.Errorf("the header reader failed: %v", v)
		}
	}()
	return sentHeader(raw, c.policy), nil
}

// sentHeader reads the header of a sent mail, and keeps its raw body for
// the id of a mail without a Message-ID.
func sentHeader(raw []byte, p readPolicy) *parsedMail {
	m := &parsedMail{}
	h, body, malformed := splitHeader(raw)
	if malformed {
		m.problem("malformed header lines")
	}
	m.readHeader(h, body, p)
	return m
}

// fetchHeaders fetches the headers of batch (BODY.PEEK[HEADER], at most
// maxHeaderOnly bytes each): a sent mail's body is not needed, so a huge
// one costs no more than a small one. PEEK leaves \Seen alone.
func (c *Connector) fetchHeaders(s *session, batch []candidate) (map[imap.UID][]byte, error) {
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: maxHeaderOnly}}
	return fetchSection(s, batch, section, "the headers of mail")
}
