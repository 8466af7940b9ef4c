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
// per FETCH command. Each batch is published, acted on and checkpointed
// before the next.
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
// deduplicated by Message-ID in the ingest stream).
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
		return c.process(ctx, h, p, s, log, cp, cands)
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
	unseenOnly := c.o.AfterIngest == ActionSeen
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
	if err := c.process(ctx, h, p, s, log, start, cands); err != nil {
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

// process reads cands in batches: fetch, parse, drop or publish, act on the
// published mail, then checkpoint the batch. cp is the position before.
func (c *Connector) process(ctx context.Context, h *connectors.Handle, p *progress, s *session, log *zap.Logger, cp mailboxCheckpoint, cands []candidate) error {
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
		var acked []imap.UID
		for _, m := range batch {
			raw, ok := bodies[m.uid]
			if !ok {
				log.Debug("mail vanished before it was read (expunged)", zap.Uint32("uid", uint32(m.uid)))
				continue
			}
			published, err := c.ingest(ctx, h, s, log, cp.UIDValidity, m, raw)
			if err != nil {
				return err
			}
			if published {
				acked = append(acked, m.uid)
			}
		}
		if err := c.act(h, s, log, acked); err != nil {
			return err
		}
		last := batch[len(batch)-1]
		cp.LastUID = max(cp.LastUID, uint32(last.uid))
		for _, m := range batch {
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

// fetchBodies fetches the raw mails of batch, each cut at MaxMessageBytes.
// BODY.PEEK leaves \Seen alone.
func (c *Connector) fetchBodies(s *session, batch []candidate) (map[imap.UID][]byte, error) {
	uids := make([]imap.UID, len(batch))
	for i, m := range batch {
		uids[i] = m.uid
	}
	set := imap.UIDSetNum(uids...)
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: c.o.MaxMessageBytes}}
	msgs, err := s.cl.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetching mail %s from %q: %w", set, s.mailbox, err)
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

// ingest parses one mail and publishes it unless it is noise. published
// reports that JetStream acked it (a duplicate counts), so the mailbox
// action may follow. An error means the publish failed: the batch stops and
// nothing after it is checkpointed.
func (c *Connector) ingest(ctx context.Context, h *connectors.Handle, s *session, log *zap.Logger, validity uint32, m candidate, raw []byte) (published bool, err error) {
	truncated := int64(len(raw)) >= c.o.MaxMessageBytes && (m.size == 0 || m.size > int64(len(raw)))
	pm := parseMail(raw, truncated, c.policy)
	c.o.Metrics.mailRead(c.o.Account)
	fields := []zap.Field{zap.Uint32("uid", uint32(m.uid)), zap.String("message_id", pm.MessageID)}
	if reason, detail := c.filter.drop(pm); reason != "" {
		c.o.Metrics.mailDropped(c.o.Account, reason)
		log.Debug("mail dropped", append(fields, zap.String("reason", reason), zap.String("detail", detail))...)
		return false, nil
	}
	env := pm.envelope(origin{
		Account: c.o.Account, Mailbox: s.mailbox, UIDValidity: validity, UID: uint32(m.uid),
		Size: m.size, Arrived: m.arrived,
	}, c.now())
	if err := env.Validate(); err != nil {
		// Cannot happen for a parsed mail; never let one mail block the
		// mailbox. It stays unmarked for a person to look at.
		err = fmt.Errorf("mail uid %d in %q makes an invalid envelope: %w", m.uid, s.mailbox, err)
		c.o.Metrics.mailSkipped(c.o.Account)
		log.Error("mail skipped", append(fields, zap.Error(err))...)
		h.Failed(err)
		return false, nil
	}
	if flags := env.Metadata["flags"]; flags != "" {
		for _, f := range strings.Split(flags, ",") {
			c.o.Metrics.mailFlagged(c.o.Account, f)
		}
		log.Info("mail ingested with flags", append(fields, zap.String("flags", flags), zap.String("problems", env.Metadata["problems"]))...)
	}
	if _, err := h.Publish(ctx, env); err != nil {
		return false, fmt.Errorf("publishing mail uid %d of %q (%s): %w", m.uid, s.mailbox, env.ID, err)
	}
	return true, nil
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
