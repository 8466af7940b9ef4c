package email

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
)

// Batching of body fetches: at most this many mails, or this many bytes,
// per FETCH command. Each mail of a batch is then published, acted on and
// checkpointed on its own.
const (
	batchMails = 25
	batchBytes = 16 << 20
)

// candidate is a mail to read: its UID and what the server said about it.
type candidate struct {
	uid     imap.UID
	size    int64
	arrived time.Time
}

// sync reads every mail of the selected mailbox that is past the checkpoint.
// On a first start it reads the backfill window; after a UIDVALIDITY change
// it reads what arrived since the last mail read (re-reads are
// deduplicated by Message-ID: in the ingest stream, or for the Sent
// mailbox in the responses stream).
func (c *Connector) sync(ctx context.Context, h *connectors.Handle, p *progress, s *session, log *zap.Logger) error {
	validity := s.sel.UIDValidity
	cp, known := p.get(s.mailbox)
	if known && cp.UIDValidity == validity {
		cands, err := c.fetchMeta(s, imap.UIDSet{{Start: imap.UID(cp.LastUID) + 1, Stop: 0}})
		if err != nil {
			return err
		}
		// "n:*" also matches the highest UID when it is below n.
		cands = slices.DeleteFunc(cands, func(m candidate) bool { return uint32(m.uid) <= cp.LastUID })
		return c.read(ctx, h, p, s, log, cp, cands)
	}

	// First start, or UIDVALIDITY changed: every UID is new. Read the
	// mail that arrived since a point in time, below the UIDNEXT seen at
	// SELECT; later mail is read by the next ordinary sync.
	next := s.sel.UIDNext
	if next == 0 {
		var err error
		if next, err = c.uidNext(s); err != nil {
			return err
		}
	}
	since := c.now().Add(-c.o.Backfill)
	// Mail a person read is left alone by after_ingest: seen; sent mail
	// is all read (it is seen from the start).
	unseenOnly := c.o.AfterIngest == ActionSeen && !s.sent
	switch {
	case !known:
		if c.o.Backfill == 0 {
			log.Info("first start: reading mail arriving from now on", zap.Uint32("uidnext", uint32(next)))
			return p.set(ctx, s.mailbox, mailboxCheckpoint{UIDValidity: validity, LastUID: uint32(next) - 1, LastArrival: c.now().UTC()})
		}
		log.Info("first start: reading the backfill window", zap.Duration("backfill", c.o.Backfill), zap.Bool("unseen_only", unseenOnly))
	default:
		c.o.Metrics.resynced(c.o.Account)
		if !cp.LastArrival.IsZero() {
			since, unseenOnly = cp.LastArrival, false
		}
		log.Warn("mailbox UIDVALIDITY changed; resynchronising by arrival time (mail read before is deduplicated by Message-ID)",
			zap.Uint32("old_uidvalidity", cp.UIDValidity), zap.Uint32("new_uidvalidity", validity), zap.Time("since", since))
	}
	cands, err := c.searchSince(s, since, unseenOnly, next)
	if err != nil {
		return err
	}
	start := mailboxCheckpoint{UIDValidity: validity, LastArrival: cp.LastArrival}
	if err := c.read(ctx, h, p, s, log, start, cands); err != nil {
		return err
	}
	// Everything below UIDNEXT is now handled, whether it was in the
	// window or not.
	done, _ := p.get(s.mailbox)
	if done.UIDValidity != validity {
		done = start
	}
	if uint32(next)-1 > done.LastUID {
		done.LastUID = uint32(next) - 1
	}
	if done.LastArrival.IsZero() {
		done.LastArrival = since.UTC()
	}
	return p.set(ctx, s.mailbox, done)
}

// uidNext asks for the next UID when SELECT did not say it: one past the
// highest UID in the mailbox.
func (c *Connector) uidNext(s *session) (imap.UID, error) {
	data, err := s.cl.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("searching %q for its highest UID: %w", s.mailbox, err)
	}
	if data.Max > 0 {
		return imap.UID(data.Max) + 1, nil
	}
	set, _ := data.All.(imap.UIDSet)
	uids, _ := set.Nums()
	var highest imap.UID
	for _, u := range uids {
		highest = max(highest, u)
	}
	return highest + 1, nil
}

// searchSince returns the mails below next that arrived at or after since
// (unseen ones only when unseenOnly), in UID order.
func (c *Connector) searchSince(s *session, since time.Time, unseenOnly bool, next imap.UID) ([]candidate, error) {
	if next <= 1 {
		return nil, nil
	}
	crit := &imap.SearchCriteria{
		// SINCE compares dates only: a day earlier is safe, the exact
		// arrival time is checked below.
		Since: since.Add(-24 * time.Hour),
		UID:   []imap.UIDSet{{{Start: 1, Stop: next - 1}}},
	}
	if unseenOnly {
		crit.NotFlag = []imap.Flag{imap.FlagSeen}
	}
	data, err := s.cl.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("searching %q for mail since %s: %w", s.mailbox, since.Format(time.RFC3339), err)
	}
	set, ok := data.All.(imap.UIDSet)
	if !ok || len(set) == 0 {
		return nil, nil
	}
	cands, err := c.fetchMeta(s, set)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(cands, func(m candidate) bool {
		return m.uid >= next || !m.arrived.IsZero() && m.arrived.Before(since.Truncate(time.Second))
	}), nil
}

// fetchMeta fetches UID, size and arrival time of the mails in set, sorted
// by UID.
func (c *Connector) fetchMeta(s *session, set imap.UIDSet) ([]candidate, error) {
	msgs, err := s.cl.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("listing mail %s in %q: %w", set, s.mailbox, err)
	}
	cands := make([]candidate, 0, len(msgs))
	for _, m := range msgs {
		if m.UID == 0 {
			continue
		}
		cands = append(cands, candidate{uid: m.UID, size: m.RFC822Size, arrived: m.InternalDate})
	}
	slices.SortFunc(cands, func(a, b candidate) int { return cmp.Compare(a.uid, b.uid) })
	return slices.CompactFunc(cands, func(a, b candidate) bool { return a.uid == b.uid }), nil
}

// read reads cands past cp: customer mail from a watched mailbox, the
// company's responses from the Sent mailbox.
func (c *Connector) read(ctx context.Context, h *connectors.Handle, p *progress, s *session, log *zap.Logger, cp mailboxCheckpoint, cands []candidate) error {
	if s.sent {
		return c.processSent(ctx, h, p, s, log, cp, cands)
	}
	return c.process(ctx, h, p, s, log, cp, cands)
}

// process reads cands: their bodies are fetched in batches, then each mail
// is handled on its own — read, dropped or published, acted on, and
// checkpointed — so that no mail costs the mails before it their progress,
// and no mail that cannot be read blocks the mails after it. cp is the
// position before.
func (c *Connector) process(ctx context.Context, h *connectors.Handle, p *progress, s *session, log *zap.Logger, cp mailboxCheckpoint, cands []candidate) error {
	var marked imap.UID // the mail whose first attempt the last save recorded
	for len(cands) > 0 {
		n, bytes := 0, int64(0)
		for n < len(cands) && n < batchMails {
			sz := min(max(cands[n].size, 1), c.o.MaxMessageBytes)
			if n > 0 && bytes+sz > batchBytes {
				break
			}
			bytes += sz
			n++
		}
		batch := cands[:n]
		cands = cands[n:]
		bodies, err := c.fetchBodies(s, batch)
		if err != nil {
			return err
		}
		for i, m := range batch {
			raw, ok := bodies[m.uid]
			delete(bodies, m.uid) // its memory can go once the mail is done
			if ok {
				attempt, err := c.beginAttempt(ctx, p, s.mailbox, &cp, m.uid, marked)
				if err != nil {
					return err
				}
				if err := c.ingest(ctx, h, s, log, cp.UIDValidity, m, raw, attempt); err != nil {
					c.interrupted(s.mailbox, m.uid)
					return err
				}
			} else {
				log.Debug("mail vanished before it was read (expunged)", zap.Uint32("uid", uint32(m.uid)))
			}
			cp.LastUID = max(cp.LastUID, uint32(m.uid))
			if m.arrived.After(cp.LastArrival) {
				cp.LastArrival = m.arrived.UTC()
			}
			// The same save records the first attempt on the next mail.
			cp.Reading, cp.Attempts, marked = 0, 0, 0
			if next, ok := nextUID(batch[i+1:], cands); ok {
				cp.Reading, cp.Attempts, marked = uint32(next), 1, next
			}
			if err := p.set(ctx, s.mailbox, cp); err != nil {
				if ok {
					c.interrupted(s.mailbox, m.uid)
				}
				return err
			}
		}
	}
	return nil
}

// nextUID is the UID of the first candidate in rest, else in later.
func nextUID(rest, later []candidate) (imap.UID, bool) {
	switch {
	case len(rest) > 0:
		return rest[0].uid, true
	case len(later) > 0:
		return later[0].uid, true
	}
	return 0, false
}

// fetchBodies fetches the raw mails of batch, each cut at MaxMessageBytes.
// BODY.PEEK leaves \Seen alone.
func (c *Connector) fetchBodies(s *session, batch []candidate) (map[imap.UID][]byte, error) {
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: c.o.MaxMessageBytes}}
	return fetchSection(s, batch, section, "mail")
}

// fetchSection fetches one body section of each mail of batch, by UID;
// what names it in an error.
func fetchSection(s *session, batch []candidate, section *imap.FetchItemBodySection, what string) (map[imap.UID][]byte, error) {
	uids := make([]imap.UID, len(batch))
	for i, m := range batch {
		uids[i] = m.uid
	}
	set := imap.UIDSetNum(uids...)
	msgs, err := s.cl.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetching %s %s from %q: %w", what, set, s.mailbox, err)
	}
	out := make(map[imap.UID][]byte, len(msgs))
	for _, m := range msgs {
		if m.UID == 0 {
			continue
		}
		for _, b := range m.BodySection {
			out[m.UID] = b.Bytes
			break
		}
	}
	return out, nil
}

// ingest reads one mail, publishes it unless it is noise, and marks or
// moves it once published. An error means the publish failed or the
// connection broke: the mail is read again after the restart.
//
// A mail whose reading fails (the parser panicked: a bug) or that stopped
// the daemon before (attempt poisonAttempts: a crash or an out-of-memory
// kill while reading it) is read as far as its header only and ingested
// flagged undecodable, so that it reaches a team and never blocks the
// mailbox. A mail of which not even the header can be read is skipped:
// left unmarked in the mailbox for a person, counted, and passed by the
// checkpoint.
func (c *Connector) ingest(ctx context.Context, h *connectors.Handle, s *session, log *zap.Logger, validity uint32, m candidate, raw []byte, attempt int) error {
	truncated := int64(len(raw)) >= c.o.MaxMessageBytes && (m.size == 0 || m.size > int64(len(raw)))
	o := origin{
		Account: c.o.Account, Mailbox: s.mailbox, UIDValidity: validity, UID: uint32(m.uid),
		Size: m.size, Arrived: m.arrived,
	}
	fields := []zap.Field{zap.Uint32("uid", uint32(m.uid))}
	why := ""
	if attempt >= poisonAttempts {
		why = fmt.Sprintf("reading this mail stopped the connector %d times (a crash or an out-of-memory kill); only its header was read", attempt-1)
		log.Error("mail stopped the connector before; reading only its header", append(fields, zap.Int("attempt", attempt))...)
	}
	res, err := c.readMail(raw, truncated, o, why, log)
	if err != nil && why == "" {
		log.Error("mail could not be read; reading only its header", append(fields, zap.Error(err))...)
		h.Failed(fmt.Errorf("mail uid %d in %q: %w", m.uid, s.mailbox, err))
		res, err = c.readMail(raw, truncated, o, err.Error(), log)
	}
	c.o.Metrics.mailRead(c.o.Account)
	if err != nil {
		err = fmt.Errorf("mail uid %d in %q cannot be ingested: %w", m.uid, s.mailbox, err)
		c.o.Metrics.mailSkipped(c.o.Account)
		log.Error("mail skipped", append(fields, zap.Error(err))...)
		h.Failed(err)
		return nil
	}
	fields = append(fields, zap.String("message_id", res.pm.MessageID))
	if res.drop != "" {
		c.o.Metrics.mailDropped(c.o.Account, res.drop)
		log.Debug("mail dropped", append(fields, zap.String("reason", res.drop), zap.String("detail", res.detail))...)
		return nil
	}
	env := res.env
	if flags := env.Metadata["flags"]; flags != "" {
		for _, f := range strings.Split(flags, ",") {
			c.o.Metrics.mailFlagged(c.o.Account, f)
		}
		log.Info("mail ingested with flags", append(fields, zap.String("flags", flags), zap.String("problems", env.Metadata["problems"]))...)
	}
	if _, err := h.Publish(ctx, env); err != nil {
		return fmt.Errorf("publishing mail uid %d of %q (%s): %w", m.uid, s.mailbox, env.ID, err)
	}
	return c.act(h, s, log, []imap.UID{m.uid})
}

// act marks or moves the published mails. A refusal by the server (NO) is
// logged and counted: the mail is ingested, so nothing is lost, it only
// stays unmarked. A broken connection is returned, so the batch is read
// again (its envelopes deduplicated) and acted on after the restart.
func (c *Connector) act(h *connectors.Handle, s *session, log *zap.Logger, uids []imap.UID) error {
	if len(uids) == 0 || c.o.AfterIngest == ActionNone {
		return nil
	}
	set := imap.UIDSetNum(uids...)
	var err error
	switch c.o.AfterIngest {
	case ActionSeen:
		err = s.cl.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	case ActionMove:
		_, err = s.cl.Move(set, c.o.MoveTo).Wait()
	}
	if err == nil {
		return nil
	}
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		c.o.Metrics.actionFailed(c.o.Account, string(c.o.AfterIngest))
		log.Warn("server refused the mailbox action on ingested mail; it stays as it is",
			zap.String("action", string(c.o.AfterIngest)), zap.Stringer("uids", set), zap.Error(err))
		h.Failed(fmt.Errorf("%s of ingested mail %s in %q refused: %w", c.o.AfterIngest, set, s.mailbox, err))
		return nil
	}
	return fmt.Errorf("%s of ingested mail %s in %q: %w", c.o.AfterIngest, set, s.mailbox, err)
}

// ensureFolder creates the move_to folder when it does not exist.
func (c *Connector) ensureFolder(s *session) error {
	list, err := s.cl.List("", c.o.MoveTo, nil).Collect()
	if err != nil {
		return fmt.Errorf("looking for folder %q: %w", c.o.MoveTo, err)
	}
	if len(list) > 0 {
		return nil
	}
	if err := s.cl.Create(c.o.MoveTo, nil).Wait(); err != nil {
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		return fmt.Errorf("creating folder %q for ingested mail: %w", c.o.MoveTo, err)
	}
	c.log.Info("created folder for ingested mail", zap.String("folder", c.o.MoveTo))
	return nil
}
