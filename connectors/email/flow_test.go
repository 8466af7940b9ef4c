package email

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/switchboard/switchboard/internal/testwait"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/message"
)

// TestNestedMailIngestedTruncated is issue 17 end to end: a mail of nested
// blockquotes is ingested with its text cut at the caps and flagged, and
// the mail after it flows as usual. (2 MiB, which made 10 MB of text
// before, keeps the test quick under the race detector; the 10 MiB mail's
// memory is checked by TestNestedMailMemoryBound.)
func TestNestedMailIngestedTruncated(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	s.deliver(t, "INBOX", nestedMail(2<<20, false), time.Now().Add(-2*time.Minute))
	next := s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Minute))
	h.run(h.options(s))
	envs := h.waitEnvelopes(2)
	nested := envs[0]
	if nested.Subject != "Sisäkkäin" || len(nested.Text) > maxText || !strings.HasPrefix(nested.Text, ">>>") ||
		nested.Metadata["flags"] != flagTextTruncated {
		t.Fatalf("nested mail: subject %q, %d bytes of text, flags %q", nested.Subject, len(nested.Text), nested.Metadata["flags"])
	}
	if envs[1].Metadata["flags"] != "" {
		t.Fatalf("the next mail got flags %q", envs[1].Metadata["flags"])
	}
	testwait.Until(t, waitFor, "checkpoint past both", func() bool {
		mc := h.checkpoint().Mailboxes["INBOX"]
		return mc.LastUID == uint32(next) && mc.Reading == 0
	})
}

// TestMailThatStoppedTheDaemon: a mail whose reading began twice and never
// finished (the daemon was killed while reading it) is read as far as its
// header and ingested flagged undecodable, instead of killing the daemon
// forever; one unfinished attempt is retried whole. The mail after it flows
// in both cases.
func TestMailThatStoppedTheDaemon(t *testing.T) {
	tests := []struct {
		name       string
		unfinished int
		headerOnly bool
	}{
		{"one unfinished attempt: read whole", 1, false},
		{"two unfinished attempts: header only", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, serverOpts{})
			h := newHarness(t)
			first := s.deliver(t, "INBOX", readFixture(t, "outlook_fi_reply.eml"), time.Now().Add(-2*time.Minute))
			second := s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Minute))
			h.saveCheckpoint(mailboxCheckpoint{UIDValidity: s.uidValidity(t, "INBOX"), Reading: uint32(first), Attempts: tt.unfinished})
			h.run(h.options(s))
			envs := h.waitEnvelopes(2)
			got := envs[0]
			if got.Subject != "VS: Tilauksenne 12345" || got.Author.Email != "matti.meikalainen@example.fi" {
				t.Fatalf("first envelope %q from %q", got.Subject, got.Author.Email)
			}
			undecodable := strings.Contains(got.Metadata["flags"], flagUndecodable)
			if undecodable != tt.headerOnly {
				t.Fatalf("flags %q, text %q", got.Metadata["flags"], got.Text)
			}
			if tt.headerOnly && (!strings.HasPrefix(got.Text, "(could not be decoded") ||
				!strings.Contains(got.Metadata["problems"], "stopped the connector 2 times") || got.Metadata["received"] == "") {
				t.Fatalf("header-only envelope: text %q, metadata %v", got.Text, got.Metadata)
			}
			if envs[1].Metadata["flags"] != "" {
				t.Fatalf("the next mail got flags %q", envs[1].Metadata["flags"])
			}
			testwait.Until(t, waitFor, "checkpoint past both", func() bool {
				mc := h.checkpoint().Mailboxes["INBOX"]
				return mc.LastUID == uint32(second) && mc.Reading == 0 && mc.Attempts == 0
			})
			want := 0.0
			if tt.headerOnly {
				want = 1
			}
			if got := h.counter("switchboard_email_flagged_total", map[string]string{"flag": flagUndecodable}); got != want {
				t.Fatalf("flagged{undecodable} = %v, want %v", got, want)
			}
		})
	}
}

// pickyPublisher fails the envelopes of one Message-ID while failing is set.
type pickyPublisher struct {
	next    connectors.Publisher
	id      string
	failing atomic.Bool
	tries   atomic.Int32
}

func (p *pickyPublisher) PublishIngest(ctx context.Context, env *message.Envelope) (bool, error) {
	if env.SourceID == p.id && p.failing.Load() {
		p.tries.Add(1)
		return false, errors.New("jetstream: no responders")
	}
	return p.next.PublishIngest(ctx, env)
}

// TestCheckpointPerMail: the checkpoint advances mail by mail, so when the
// second mail cannot be published the first stays done (marked seen,
// checkpointed) and is not read again; the failed publishes of the second,
// errors within the running process, do not count as attempts that stopped
// the daemon, so it is read whole once publishing works.
func TestCheckpointPerMail(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	picky := &pickyPublisher{next: h.bus, id: "CAKf9Z8A+b2E=xYzq1Lw4rT5s6u7v8w9x0y1z2A3B4C5D6E7F8G9@mail.gmail.com"}
	picky.failing.Store(true)
	h.pub = picky
	first := s.deliver(t, "INBOX", readFixture(t, "outlook_fi_reply.eml"), time.Now().Add(-3*time.Minute))
	second := s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-2*time.Minute))
	third := s.deliver(t, "INBOX", readFixture(t, "apple_mail_qp.eml"), time.Now().Add(-time.Minute))
	h.run(h.options(s))
	testwait.Until(t, waitFor, "the second mail failing three times", func() bool { return picky.tries.Load() >= poisonAttempts })
	mc := h.checkpoint().Mailboxes["INBOX"]
	if mc.LastUID != uint32(first) || mc.Reading != uint32(second) {
		t.Fatalf("checkpoint %+v, want the first mail done and the second being read", mc)
	}
	if f := s.flags(t, "INBOX"); !hasFlag(f[first], imap.FlagSeen) || hasFlag(f[second], imap.FlagSeen) {
		t.Fatalf("flags %v: want only the first mail seen", f)
	}
	picky.failing.Store(false)
	envs := h.waitEnvelopes(3)
	for _, env := range envs {
		if env.Metadata["flags"] != "" {
			t.Fatalf("%s got flags %q", env.ID, env.Metadata["flags"])
		}
	}
	if got := h.counter("switchboard_email_mails_read_total", nil); got < 3 {
		t.Fatalf("%v mails read", got)
	}
	testwait.Until(t, waitFor, "checkpoint past all three", func() bool {
		mc := h.checkpoint().Mailboxes["INBOX"]
		return mc.LastUID == uint32(third) && mc.Reading == 0
	})
}

// saveCheckpoint stores the support account's checkpoint with mc for INBOX,
// as a daemon that stopped would have left it.
func (h *harness) saveCheckpoint(mc mailboxCheckpoint) {
	h.t.Helper()
	b, err := json.Marshal(checkpoint{Version: checkpointVersion, Mailboxes: map[string]mailboxCheckpoint{"INBOX": mc}})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := (bus.Checkpoints{KV: h.bus.KV}).Save(context.Background(), "email.support", b); err != nil {
		h.t.Fatal(err)
	}
}

// uidValidity returns the UIDVALIDITY of mailbox, read over IMAP.
func (s *testServer) uidValidity(t *testing.T, mailbox string) uint32 {
	t.Helper()
	cl, sel := s.examine(t, mailbox)
	defer cl.Close()
	return sel.UIDValidity
}
