package email

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// checkpointVersion is the version of the checkpoint JSON written by this
// build.
const checkpointVersion = 1

// checkpoint is an account's saved position: one entry per watched
// mailbox, and one for the Sent mailbox read for responses, kept apart so
// that a watched mailbox and the Sent mailbox never share a position.
type checkpoint struct {
	Version   int                          `json:"v"`
	Mailboxes map[string]mailboxCheckpoint `json:"mailboxes"`
	// Sent is the position in the Sent mailbox, by the mailbox's name (the
	// one found by sent_mailbox: auto, or the configured one).
	Sent map[string]mailboxCheckpoint `json:"sent,omitempty"`
}

// mailboxCheckpoint is how far a mailbox was read. Every mail up to LastUID
// (within UIDValidity) was ingested or deliberately dropped.
type mailboxCheckpoint struct {
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
	// LastArrival is the newest INTERNALDATE read: after a UIDVALIDITY
	// change, mail that arrived from then on is read again.
	LastArrival time.Time `json:"last_arrival,omitzero"`
	// Reading is the UID after LastUID whose reading began, and Attempts
	// how many times it began without finishing. A crash or an
	// out-of-memory kill while reading a mail leaves them behind, so that
	// a mail that keeps killing the daemon is noticed and read differently
	// (see poisonAttempts) instead of blocking the mailbox forever.
	Reading  uint32 `json:"reading,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// decodeCheckpoint reads a saved checkpoint; nil or empty is a first start.
func decodeCheckpoint(b []byte) (checkpoint, error) {
	cp := checkpoint{Version: checkpointVersion, Mailboxes: map[string]mailboxCheckpoint{}, Sent: map[string]mailboxCheckpoint{}}
	if len(b) == 0 {
		return cp, nil
	}
	var got checkpoint
	if err := json.Unmarshal(b, &got); err != nil {
		return cp, fmt.Errorf("decoding email checkpoint: %w", err)
	}
	if got.Version != checkpointVersion {
		return cp, fmt.Errorf("email checkpoint version %d: this build reads version %d", got.Version, checkpointVersion)
	}
	for k, v := range got.Mailboxes {
		cp.Mailboxes[k] = v
	}
	for k, v := range got.Sent {
		cp.Sent[k] = v
	}
	return cp, nil
}

// checkpointSaver durably stores a checkpoint (a *connectors.Handle).
type checkpointSaver interface {
	SaveCheckpoint(ctx context.Context, checkpoint []byte) error
}

// progress is the checkpoint shared by an account's mailbox watchers. Saves
// are serialized, so that an older state never overwrites a newer one.
type progress struct {
	*saved
	// sent selects the Sent positions instead of the watched mailboxes'.
	sent bool
}

// saved is the one checkpoint of an account and the lock its saves hold.
type saved struct {
	mu    sync.Mutex
	cp    checkpoint
	saver checkpointSaver
}

// newProgress starts from cp, saving through saver.
func newProgress(cp checkpoint, saver checkpointSaver) *progress {
	return &progress{saved: &saved{cp: cp, saver: saver}}
}

// sentView is the same checkpoint seen by the Sent mailbox's reader: its
// get and set address the Sent positions, saved with everything else.
func (p *progress) sentView() *progress { return &progress{saved: p.saved, sent: true} }

// positions is the map p addresses; the caller holds mu.
func (p *progress) positions() map[string]mailboxCheckpoint {
	if p.sent {
		if p.cp.Sent == nil {
			p.cp.Sent = map[string]mailboxCheckpoint{}
		}
		return p.cp.Sent
	}
	return p.cp.Mailboxes
}

// get returns the position of mailbox, and whether there is one.
func (p *progress) get(mailbox string) (mailboxCheckpoint, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mc, ok := p.positions()[mailbox]
	return mc, ok
}

// set records and durably saves the position of mailbox.
func (p *progress) set(ctx context.Context, mailbox string, mc mailboxCheckpoint) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.positions()[mailbox] = mc
	b, err := json.Marshal(p.cp)
	if err != nil {
		return fmt.Errorf("encoding email checkpoint: %w", err)
	}
	return p.saver.SaveCheckpoint(ctx, b)
}
