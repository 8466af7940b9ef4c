package email

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

// customerMail is a customer's mail to the support address, written at
// date.
func customerMail(mid, headers string, date time.Time, body string) []byte {
	h := "From: Matti <matti@example.fi>\nTo: tuki@yritys.fi\nSubject: Tilaus 1180442\nMessage-ID: <" + mid + ">\nDate: " + date.Format(time.RFC1123Z) + "\n"
	if headers != "" {
		h += headers + "\n"
	}
	return []byte(strings.ReplaceAll(h+"\n"+body, "\n", "\r\n"))
}

// sentReply is the company's reply kept in Sent, written at date.
func sentReply(mid, inReplyTo, references string, date time.Time) []byte {
	h := "Message-ID: <" + mid + ">\nSubject: Re: Tilaus 1180442\nDate: " + date.Format(time.RFC1123Z)
	if inReplyTo != "" {
		h += "\nIn-Reply-To: <" + inReplyTo + ">"
	}
	if references != "" {
		h += "\nReferences: " + references
	}
	return sentMail(h, "Paketti lähti tänään.\n")
}

// sentServer is a test server with a Sent mailbox.
func sentServer(t *testing.T, so serverOpts, sent string) *testServer {
	t.Helper()
	s := startServer(t, so)
	if err := s.user.Create(sent, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitResponses waits until the store holds n responses, and fails when it
// holds more.
func (h *harness) waitResponses(n int) []*message.Response {
	h.t.Helper()
	var rs []*message.Response
	testwait.Until(h.t, waitFor, fmt.Sprintf("%d responses", n), func() bool {
		rs = h.resp.All()
		return len(rs) >= n
	})
	if len(rs) > n {
		h.t.Fatalf("%d responses, want %d: %+v", len(rs), n, rs)
	}
	return rs
}

// TestSentReplyBecomesResponse is issue 15's email case: a customer's mail
// is ingested from INBOX, the reply sent three hours later appears in Sent,
// and it becomes one response that names the customer's envelope, joins
// its thread, and is dated three hours after it. The Sent mailbox is read
// only: the reply stays unseen, and is never ingested.
func TestSentReplyBecomesResponse(t *testing.T) {
	s := sentServer(t, serverOpts{}, "Sent")
	h := newHarness(t)
	asked := time.Now().Add(-4 * time.Hour).Truncate(time.Second)
	s.deliver(t, "INBOX", customerMail("c1@example.fi", "", asked, "Missä paketti on?"), asked)
	o := h.options(s)
	o.SentMailbox = "Sent"
	h.run(o)
	env := h.waitEnvelopes(1)[0]

	answered := asked.Add(3 * time.Hour)
	uid := s.deliver(t, "Sent", sentReply("r1@yritys.fi", "c1@example.fi", "<c1@example.fi>", answered), answered.Add(2*time.Second), imap.FlagSeen)
	unseen := s.deliver(t, "Sent", sentReply("r2@yritys.fi", "c1@example.fi", "", answered.Add(time.Minute)), answered.Add(time.Minute))
	rs := h.waitResponses(2)
	r := rs[0]
	if r.InReplyTo != env.ID || r.ThreadID != env.ThreadID || r.ID != "email:r1@yritys.fi" || r.By != "asiakaspalvelu@yritys.fi" {
		t.Fatalf("response %+v does not answer envelope %s in thread %s", r, env.ID, env.ThreadID)
	}
	if delay := r.At.Sub(env.CreatedAt); delay != 3*time.Hour {
		t.Fatalf("response at %v, %v after the customer's mail; want 3h", r.At, delay)
	}
	testwait.Until(t, waitFor, "Sent checkpointed", func() bool { return h.checkpoint().Sent["Sent"].LastUID == uint32(unseen) })
	f := s.flags(t, "Sent")
	if hasFlag(f[unseen], imap.FlagSeen) || len(f[unseen]) != 0 || !hasFlag(f[uid], imap.FlagSeen) {
		t.Fatalf("Sent flags changed: %v", f)
	}
	if envs := h.envelopes(); len(envs) != 1 {
		t.Fatalf("%d envelopes: sent mail was ingested", len(envs))
	}
	if got := h.counter("switchboard_email_responses_total", map[string]string{"account": "support"}); got != 2 {
		t.Fatalf("responses_total = %v", got)
	}
}

// TestSentReplyChain: each reply links the mail it directly answers, all in
// the thread of the customer's first mail; a mail that starts a
// conversation, an automatic acknowledgement and a forward to a team are no
// responses, and are counted by reason.
func TestSentReplyChain(t *testing.T) {
	s := sentServer(t, serverOpts{}, "Sent Items")
	h := newHarness(t)
	t0 := time.Now().Add(-5 * time.Hour).Truncate(time.Second)
	s.deliver(t, "INBOX", customerMail("c1@example.fi", "", t0, "Missä paketti on?"), t0)
	// Sent mail is seen from the start: the backfill reads it all the same.
	s.deliver(t, "Sent Items", sentReply("r1@yritys.fi", "c1@example.fi", "<c1@example.fi>", t0.Add(time.Hour)), t0.Add(time.Hour), imap.FlagSeen)
	s.deliver(t, "INBOX", customerMail("c2@example.fi", "In-Reply-To: <r1@yritys.fi>\nReferences: <c1@example.fi> <r1@yritys.fi>", t0.Add(2*time.Hour), "Ei ole tullut."), t0.Add(2*time.Hour))
	s.deliver(t, "Sent Items", sentReply("r2@yritys.fi", "c2@example.fi", "<c1@example.fi> <r1@yritys.fi> <c2@example.fi>", t0.Add(3*time.Hour)), t0.Add(3*time.Hour))
	s.deliver(t, "Sent Items", sentMail("Message-ID: <offer@yritys.fi>\nSubject: Tarjous", "Uusi tarjous."), t0)
	s.deliver(t, "Sent Items", sentMail("Message-ID: <ack@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nAuto-Submitted: auto-replied", "Kiitos, vastaamme pian."), t0)
	s.deliver(t, "Sent Items", sentMail("Message-ID: <fw@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nTo: asiakaspalvelu@yritys.fi", "Katsotko?"), t0)
	o := h.options(s)
	o.SentMailbox = "Sent Items"
	h.run(o)
	envs := h.waitEnvelopes(2)
	rs := h.waitResponses(2)
	byID := map[string]*message.Response{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	for id, parent := range map[string]message.Envelope{"email:r1@yritys.fi": envs[0], "email:r2@yritys.fi": envs[1]} {
		r := byID[id]
		if r == nil || r.InReplyTo != parent.ID || r.ThreadID != parent.ThreadID || r.ThreadID != "c1@example.fi" {
			t.Errorf("%s = %+v, want it to answer %s in thread %s", id, r, parent.ID, parent.ThreadID)
		}
	}
	testwait.Until(t, waitFor, "Sent checkpointed", func() bool { return h.checkpoint().Sent["Sent Items"].LastUID == 5 })
	for reason, want := range map[string]float64{skipNoReference: 1, skipAutoReply: 1, skipInternal: 1} {
		if got := h.counter("switchboard_email_sent_skipped_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("sent_skipped{%s} = %v, want %v", reason, got, want)
		}
	}
}

// TestSentUIDValidityResync: the Sent mailbox is rebuilt with new UIDs. It
// is read again from the newest mail read before; the re-read responses
// are stored once (by id), the new one is stored.
func TestSentUIDValidityResync(t *testing.T) {
	s := sentServer(t, serverOpts{}, "Sent")
	h := newHarness(t)
	t1 := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	t2 := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	a := sentReply("r1@yritys.fi", "c1@example.fi", "", t1)
	b := sentReply("r2@yritys.fi", "c2@example.fi", "", t2)
	s.deliver(t, "Sent", a, t1)
	s.deliver(t, "Sent", b, t2)
	o := h.options(s)
	o.SentMailbox = "Sent"
	_, stop := h.run(o)
	h.waitResponses(2)
	testwait.Until(t, waitFor, "Sent checkpointed", func() bool { return h.checkpoint().Sent["Sent"].LastUID == 2 })
	before := h.checkpoint().Sent["Sent"]
	stop()

	s.recreate(t, "Sent")
	s.deliver(t, "Sent", a, t1)
	s.deliver(t, "Sent", b, t2)
	s.deliver(t, "Sent", sentReply("r3@yritys.fi", "c3@example.fi", "", t2.Add(time.Hour)), t2.Add(time.Hour))
	h.run(o)
	rs := h.waitResponses(3)
	if rs[2].ID != "email:r3@yritys.fi" {
		t.Fatalf("new response %+v", rs[2])
	}
	testwait.Until(t, waitFor, "resync checkpointed", func() bool {
		mc := h.checkpoint().Sent["Sent"]
		return mc.UIDValidity != before.UIDValidity && mc.LastUID == 3
	})
	// The re-read happened (b again, arrived at the last arrival read, and
	// the new mail): only the store kept it from being a duplicate.
	if got := h.counter("switchboard_email_responses_total", nil); got != 4 {
		t.Fatalf("responses_total = %v, want 2 + 2 read again after the resync", got)
	}
	if got := h.counter("switchboard_email_uidvalidity_resyncs_total", nil); got != 1 {
		t.Fatalf("resyncs = %v", got)
	}
}

// TestSentWithoutMessageID: a sent mail without a Message-ID gets the id a
// received copy of it would get (a hash over its header fields and body),
// so its body is fetched for it.
func TestSentWithoutMessageID(t *testing.T) {
	s := sentServer(t, serverOpts{}, "Sent")
	h := newHarness(t)
	raw := sentMail("In-Reply-To: <c1@example.fi>\nDate: "+time.Now().Add(-time.Hour).Format(time.RFC1123Z), "Vastaus ilman tunnistetta.\n")
	s.deliver(t, "Sent", raw, time.Now().Add(-time.Hour))
	o := h.options(s)
	o.SentMailbox = "Sent"
	h.run(o)
	r := h.waitResponses(1)[0]
	want := parseMail(raw, false, readPolicy{}).sourceID()
	if !strings.HasPrefix(want, "nomid-") || r.SourceID != want || r.ID != "email:"+want {
		t.Fatalf("response %s / %s, want the envelope id %s", r.ID, r.SourceID, want)
	}
}

// TestSentAuto finds the Sent mailbox by its \Sent attribute; when the
// server marks none, the watched mailboxes keep flowing and the connector
// shows why responses are not read.
func TestSentAuto(t *testing.T) {
	t.Run("found", func(t *testing.T) {
		s := sentServer(t, serverOpts{specialUse: map[string]imap.MailboxAttr{"Lähetetyt": imap.MailboxAttrSent}}, "Lähetetyt")
		h := newHarness(t)
		s.deliver(t, "Lähetetyt", sentReply("r1@yritys.fi", "c1@example.fi", "", time.Now().Add(-time.Hour)), time.Now().Add(-time.Hour))
		o := h.options(s)
		o.SentMailbox = SentAuto
		h.run(o)
		if r := h.waitResponses(1)[0]; r.InReplyTo != "email:c1@example.fi" {
			t.Fatalf("response %+v", r)
		}
		testwait.Until(t, waitFor, "Sent checkpointed under its name", func() bool { return h.checkpoint().Sent["Lähetetyt"].LastUID == 1 })
	})
	t.Run("none marked", func(t *testing.T) {
		s := sentServer(t, serverOpts{specialUse: map[string]imap.MailboxAttr{}}, "Sent")
		h := newHarness(t)
		s.deliver(t, "INBOX", customerMail("c1@example.fi", "", time.Now().Add(-time.Hour), "Hei"), time.Now().Add(-time.Hour))
		o := h.options(s)
		o.SentMailbox = SentAuto
		sup, _ := h.run(o)
		h.waitEnvelopes(1)
		testwait.Until(t, waitFor, "the missing Sent mailbox shown", func() bool {
			return strings.Contains(status(sup).LastError, `\Sent attribute`)
		})
		if st := status(sup); st.State != connectors.StateRunning || st.Restarts != 0 {
			t.Fatalf("status %+v: the account should keep running", st)
		}
	})
}

// TestSentMissingKeepsInboxFlowing: a configured Sent mailbox that does not
// exist does not stop ingestion.
func TestSentMissingKeepsInboxFlowing(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	o := h.options(s)
	o.SentMailbox = "Sent"
	sup, _ := h.run(o)
	testwait.Until(t, waitFor, "the missing Sent mailbox shown", func() bool {
		return strings.Contains(status(sup).LastError, `selecting mailbox "Sent"`)
	})
	s.deliver(t, "INBOX", customerMail("c1@example.fi", "", time.Now(), "Hei"), time.Now())
	h.waitEnvelopes(1)
	if st := status(sup); st.State != connectors.StateRunning || st.Restarts != 0 {
		t.Fatalf("status %+v: the account should keep running", st)
	}
}

// TestSentNotReadUntracked: when the daemon does not track responses, the
// Sent mailbox is not opened at all.
func TestSentNotReadUntracked(t *testing.T) {
	s := sentServer(t, serverOpts{}, "Sent")
	h := newHarness(t)
	h.resp = nil
	core, logs := observer.New(zap.InfoLevel)
	s.deliver(t, "Sent", sentReply("r1@yritys.fi", "c1@example.fi", "", time.Now().Add(-time.Hour)), time.Now().Add(-time.Hour))
	s.deliver(t, "INBOX", customerMail("c1@example.fi", "", time.Now().Add(-time.Hour), "Hei"), time.Now().Add(-time.Hour))
	o := h.options(s)
	o.SentMailbox, o.Log = "Sent", zap.New(core)
	h.run(o)
	h.waitEnvelopes(1)
	testwait.Until(t, waitFor, "the inbox checkpointed", func() bool { return h.checkpoint().Mailboxes["INBOX"].LastUID == 1 })
	if logs.FilterMessage("responses are not tracked; the Sent mailbox is not read").Len() != 1 {
		t.Fatalf("logs %v", logs.All())
	}
	if cp := h.checkpoint(); len(cp.Sent) != 0 {
		t.Fatalf("the Sent mailbox was read: %+v", cp.Sent)
	}
}

// TestSentMailboxRefused: the Sent mailbox cannot be a watched mailbox or
// the move_to folder.
func TestSentMailboxRefused(t *testing.T) {
	good := Options{Account: "a", Addr: "h:993", TLS: TLSImplicit, Mailboxes: []string{"INBOX", "Laskut"}, AfterIngest: ActionSeen,
		PollInterval: time.Minute, MaxMessageBytes: 1 << 20}
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"named", func(o *Options) { o.SentMailbox = "Sent" }, ""},
		{"auto", func(o *Options) { o.SentMailbox = SentAuto }, ""},
		{"watched", func(o *Options) { o.SentMailbox = "Laskut" }, "also a watched mailbox"},
		{"inbox", func(o *Options) { o.SentMailbox = "inbox" }, "also a watched mailbox"},
		{"move_to", func(o *Options) { o.SentMailbox, o.AfterIngest, o.MoveTo = "Done", ActionMove, "Done" }, "moved to"},
	}
	for _, tt := range tests {
		o := good
		tt.mutate(&o)
		_, err := New(o)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}
