package email

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
)

// poisonAttempts is the attempt on a mail at which only its header is
// read: the two attempts before it began and never finished, so reading
// the mail killed the daemon (a crash, an out-of-memory kill) twice.
const poisonAttempts = 3

// maxHeaderOnly is how much of a mail is read when only its header is.
const maxHeaderOnly = 64 << 10

// beginAttempt records in the checkpoint that reading uid begins and
// returns which attempt on it this is. marked is the mail whose first
// attempt the last save already recorded.
func (c *Connector) beginAttempt(ctx context.Context, p *progress, mailbox string, cp *mailboxCheckpoint, uid, marked imap.UID) (int, error) {
	switch {
	case cp.Reading == uint32(uid) && uid == marked:
		return cp.Attempts, nil
	case cp.Reading != uint32(uid):
		cp.Reading, cp.Attempts = uint32(uid), 1
	case c.resumes(mailbox, uid):
		// The attempt before ended with an error in this process (a
		// failed publish, a broken connection), not with the process: it
		// does not count.
		cp.Attempts = max(cp.Attempts, 1)
		return cp.Attempts, nil
	default:
		cp.Attempts++
	}
	if err := p.set(ctx, mailbox, *cp); err != nil {
		return 0, err
	}
	return cp.Attempts, nil
}

// interrupted records that reading uid in mailbox ended with an error
// that did not end the process.
func (c *Connector) interrupted(mailbox string, uid imap.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unfinished[mailbox] = uid
}

// resumes reports (once) whether reading uid in mailbox ended with an
// error earlier in this process.
func (c *Connector) resumes(mailbox string, uid imap.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unfinished[mailbox] != uid {
		return false
	}
	delete(c.unfinished, mailbox)
	return true
}

// readResult is what reading one mail gave: the parsed mail and either the
// reason it is noise or its envelope.
type readResult struct {
	pm           *parsedMail
	drop, detail string
	env          *message.Envelope
}

// readMail parses raw, filters it and makes its envelope. undecodable
// non-empty reads only the header, saying why. A panic of the parser (a
// bug) is returned as an error, with its stack logged, so that one mail
// never takes the daemon down.
func (c *Connector) readMail(raw []byte, truncated bool, o origin, undecodable string, log *zap.Logger) (res readResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("mail parser panicked", zap.Uint32("uid", o.UID), zap.Any("panic", v), zap.Stack("stack"))
			res, err = readResult{}, fmt.Errorf("the parser failed: %v", v)
		}
	}()
	if undecodable == "" {
		res.pm = parseMail(raw, truncated, c.policy)
	} else {
		res.pm = headerOnly(raw, truncated, c.policy, undecodable)
	}
	if res.drop, res.detail = c.filter.drop(res.pm); res.drop != "" {
		return res, nil
	}
	res.env = res.pm.envelope(o, c.now())
	if err := res.env.Validate(); err != nil {
		return readResult{}, fmt.Errorf("it makes an invalid envelope: %w", err)
	}
	return res, nil
}

// headerOnly reads only the header of a mail (within its first
// maxHeaderOnly bytes), for a mail that could not be read whole; why says
// so in the envelope.
func headerOnly(raw []byte, truncated bool, p readPolicy, why string) *parsedMail {
	if len(raw) > maxHeaderOnly {
		raw = raw[:maxHeaderOnly]
	}
	m := &parsedMail{Truncated: truncated, Undecodable: why}
	h, body, malformed := splitHeader(raw)
	if malformed {
		m.problem("malformed header lines")
	}
	m.readHeader(h, body, p)
	return m
}
