package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/metrictest"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/internal/tlstest"
)

const (
	testUser     = "support@yritys.fi"
	testPassword = "s3cret-imap-pw"
	waitFor      = 10 * time.Second
)

// testServer is an in-process IMAP server (imapserver + imapmemserver)
// speaking the real protocol on a loopback listener.
type testServer struct {
	addr string
	user *imapmemserver.User
}

type serverOpts struct {
	// tls: "" (plain, STARTTLS off), "starttls" or "implicit".
	tls  string
	cert tls.Certificate
	// specialUse marks mailboxes with a SPECIAL-USE attribute (\Sent),
	// and makes the server announce SPECIAL-USE and LIST-EXTENDED.
	specialUse map[string]imap.MailboxAttr
}

func startServer(t *testing.T, so serverOpts) *testServer {
	t.Helper()
	user := imapmemserver.NewUser(testUser, testPassword)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	if so.specialUse != nil {
		caps[imap.CapSpecialUse], caps[imap.CapListExtended] = struct{}{}, struct{}{}
	}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &testSession{user: user, specialUse: so.specialUse}, nil, nil
		},
		Caps:         caps,
		InsecureAuth: so.tls == "",
		Logger:       testLogger{t},
	}
	if so.tls != "" {
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{so.cert}}
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if so.tls == "implicit" {
		ln = tls.NewListener(ln, opts.TLSConfig)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return &testServer{addr: ln.Addr().String(), user: user}
}

// testSession is imapmemserver's session for the one test user, except that
// IDLE reports every change, also one made between the last command and
// IDLE, as real servers do. (imapmemserver reports only changes made after
// IDLE began, so a mail delivered just before it would wait for the next
// command, an hour away in most tests.)
//
// It also lists the mailboxes marked in serverOpts.specialUse with their
// attribute for LIST (SPECIAL-USE): imapmemserver keeps no special-use
// attributes (its Create ignores them).
type testSession struct {
	*imapmemserver.UserSession // nil until logged in
	user                       *imapmemserver.User
	specialUse                 map[string]imap.MailboxAttr
}

func (s *testSession) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if options == nil || !options.SelectSpecialUse {
		return s.UserSession.List(w, ref, patterns, options)
	}
	names := make([]string, 0, len(s.specialUse))
	for name := range s.specialUse {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, pattern := range patterns {
			if imapserver.MatchList(name, '/', ref, pattern) {
				if err := w.WriteList(&imap.ListData{Mailbox: name, Delim: '/', Attrs: []imap.MailboxAttr{s.specialUse[name]}}); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

func (s *testSession) Login(username, password string) error {
	if err := s.user.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(s.user)
	return nil
}

// idleCheck is how often an idling test session looks for changes.
const idleCheck = 10 * time.Millisecond

func (s *testSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(idleCheck)
	defer t.Stop()
	for {
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}

type testLogger struct{ t *testing.T }

func (l testLogger) Printf(format string, args ...any) {
	// Connection resets at the end of a test are expected.
	if !strings.Contains(fmt.Sprintf(format, args...), "use of closed network connection") {
		l.t.Logf("imapserver: "+format, args...)
	}
}

// literal is an imap.LiteralReader over bytes.
type literal struct{ *bytes.Reader }

// deliver appends raw mail to mailbox as if it arrived at arrived.
func (s *testServer) deliver(t *testing.T, mailbox string, raw []byte, arrived time.Time, flags ...imap.Flag) imap.UID {
	t.Helper()
	data, err := s.user.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: arrived, Flags: flags})
	if err != nil {
		t.Fatalf("delivering to %s: %v", mailbox, err)
	}
	return data.UID
}

// recreate deletes mailbox and creates it again, empty: the server gives
// it a new UIDVALIDITY, as a rebuilt mailbox gets.
func (s *testServer) recreate(t *testing.T, mailbox string) {
	t.Helper()
	if err := s.user.Delete(mailbox); err != nil {
		t.Fatalf("deleting %s: %v", mailbox, err)
	}
	if err := s.user.Create(mailbox, nil); err != nil {
		t.Fatalf("creating %s: %v", mailbox, err)
	}
}

// examine logs in over IMAP and selects mailbox read-only, for a test to
// look at what the connector left there. The caller closes the client.
func (s *testServer) examine(t *testing.T, mailbox string) (*imapclient.Client, *imap.SelectData) {
	t.Helper()
	cl, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Login(testUser, testPassword).Wait(); err != nil {
		cl.Close()
		t.Fatal(err)
	}
	sel, err := cl.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		cl.Close()
		t.Fatal(err)
	}
	return cl, sel
}

// flags returns the flags of every mail in mailbox, by UID, read over IMAP.
func (s *testServer) flags(t *testing.T, mailbox string) map[imap.UID][]imap.Flag {
	t.Helper()
	cl, sel := s.examine(t, mailbox)
	defer cl.Close()
	out := map[imap.UID][]imap.Flag{}
	if sel.NumMessages == 0 {
		return out
	}
	msgs, err := cl.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		out[m.UID] = m.Flags
	}
	return out
}

func hasFlag(flags []imap.Flag, f imap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

// harness runs connectors under a real supervisor on an embedded JetStream.
type harness struct {
	t   *testing.T
	bus *bus.Bus
	pub connectors.Publisher
	reg *prometheus.Registry
	m   *Metrics
	// resp stores the responses the connector publishes; nil: responses
	// are not tracked.
	resp *connectortest.Responses
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	b := bustest.Open(t, nil)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, bus: b, pub: b, reg: reg, m: m, resp: &connectortest.Responses{}}
}

// options returns working options for the test server; change what the
// test is about.
func (h *harness) options(s *testServer) Options {
	return Options{
		Account: "support", Addr: s.addr, TLS: TLSNone,
		Username: testUser, Password: secret.Secret(testPassword),
		Mailboxes: []string{"INBOX"}, AfterIngest: ActionSeen,
		IDLE: true, PollInterval: time.Hour, MaxMessageBytes: 10 << 20, Backfill: 24 * time.Hour,
		OwnAddresses: []string{"asiakaspalvelu@yritys.fi"},
		Metrics:      h.m, Log: zap.NewNop(),
	}
}

// run starts the connector; stop ends it and waits until it stopped.
func (h *harness) run(o Options) (sup *connectors.Supervisor, stop func()) {
	h.t.Helper()
	c, err := New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	sup = connectors.NewSupervisor(connectors.SupervisorOptions{Publisher: h.pub, Checkpoints: bus.Checkpoints{KV: h.bus.KV},
		Backoff: backoff.Policy{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}, Log: bustest.Logger(h.t), Responses: h.responses()})
	ctx, cancel := context.WithCancel(context.Background())
	if err := sup.Start(ctx, c); err != nil {
		h.t.Fatal(err)
	}
	var once atomic.Bool
	stop = func() {
		if once.CompareAndSwap(false, true) {
			cancel()
			sup.Wait()
		}
	}
	h.t.Cleanup(stop)
	return sup, stop
}

// responses is the supervisor's response store: none when h.resp is nil
// (a nil *Responses in the interface would look like one).
func (h *harness) responses() connectors.ResponsePublisher {
	if h.resp == nil {
		return nil
	}
	return h.resp
}

// envelopes returns everything in the ingest stream, in order.
func (h *harness) envelopes() []message.Envelope {
	h.t.Helper()
	_, msgs := connectortest.IngestStream(h.t, h.bus)
	var out []message.Envelope
	for _, msg := range msgs {
		var env message.Envelope
		if err := json.Unmarshal(msg.Data, &env); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// waitEnvelopes waits until the stream holds n envelopes, and fails when
// it holds more.
func (h *harness) waitEnvelopes(n int) []message.Envelope {
	h.t.Helper()
	var envs []message.Envelope
	testwait.Until(h.t, waitFor, fmt.Sprintf("%d envelopes", n), func() bool {
		envs = h.envelopes()
		return len(envs) >= n
	})
	if len(envs) > n {
		h.t.Fatalf("%d envelopes, want %d", len(envs), n)
	}
	return envs
}

// checkpoint returns the saved checkpoint of the support account.
func (h *harness) checkpoint() checkpoint {
	h.t.Helper()
	raw, err := bus.Checkpoints{KV: h.bus.KV}.Load(context.Background(), "email.support")
	if err != nil {
		h.t.Fatal(err)
	}
	cp, err := decodeCheckpoint(raw)
	if err != nil {
		h.t.Fatal(err)
	}
	return cp
}

// counter returns the value of a metric with the given labels.
func (h *harness) counter(name string, labels map[string]string) float64 {
	h.t.Helper()
	return metrictest.Value(h.t, h.reg, name, labels)
}

func status(sup *connectors.Supervisor) connectors.Status { return sup.Statuses()[0] }

// TestIngestWithIDLE is the main path: backfilled mail is ingested (noise
// dropped) and marked seen after the ack, and mail arriving later wakes the
// IDLE wait (the poll interval is an hour, so only IDLE can deliver it).
func TestIngestWithIDLE(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	now := time.Now()
	gmail := s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), now.Add(-2*time.Hour))
	bounceUID := s.deliver(t, "INBOX", readFixture(t, "bounce.eml"), now.Add(-90*time.Minute))
	outlook := s.deliver(t, "INBOX", readFixture(t, "outlook_fi_reply.eml"), now.Add(-time.Hour))
	s.deliver(t, "INBOX", readFixture(t, "list_mail.eml"), now.Add(-30*time.Minute))
	own := s.deliver(t, "INBOX", rawMail("From: Asiakaspalvelu <asiakaspalvelu@yritys.fi>\nMessage-ID: <own@yritys.fi>", "oma viesti"), now.Add(-20*time.Minute))

	sup, _ := h.run(h.options(s))
	envs := h.waitEnvelopes(2)
	if envs[0].SourceID != "CAKf9Z8A+b2E=xYzq1Lw4rT5s6u7v8w9x0y1z2A3B4C5D6E7F8G9@mail.gmail.com" || envs[1].Author.Email != "matti.meikalainen@example.fi" {
		t.Fatalf("envelopes %s, %s", envs[0].ID, envs[1].ID)
	}
	if envs[1].Metadata["account"] != "support" || envs[1].Metadata["mailbox"] != "INBOX" || envs[1].Metadata["uid"] != fmt.Sprint(outlook) {
		t.Errorf("metadata %v", envs[1].Metadata)
	}
	testwait.Until(t, waitFor, "ingested mail marked seen", func() bool {
		f := s.flags(t, "INBOX")
		return hasFlag(f[gmail], imap.FlagSeen) && hasFlag(f[outlook], imap.FlagSeen)
	})
	// The drops after the last ingested mail are counted once the
	// checkpoint passed them.
	testwait.Until(t, waitFor, "checkpoint past the dropped mail", func() bool { return h.checkpoint().Mailboxes["INBOX"].LastUID >= uint32(own) })
	if f := s.flags(t, "INBOX"); hasFlag(f[bounceUID], imap.FlagSeen) {
		t.Error("a dropped bounce was marked seen; dropped mail must stay as it is")
	}
	for reason, want := range map[string]float64{dropBounce: 1, dropList: 1, dropOwnAddress: 1} {
		if got := h.counter("switchboard_email_dropped_total", map[string]string{"account": "support", "reason": reason}); got != want {
			t.Errorf("dropped{%s} = %v, want %v", reason, got, want)
		}
	}

	// New mail while idling.
	later := s.deliver(t, "INBOX", readFixture(t, "apple_mail_qp.eml"), time.Now())
	envs = h.waitEnvelopes(3)
	if envs[2].Author.Name != "Liisa Virtanen" {
		t.Fatalf("third envelope %+v", envs[2])
	}
	testwait.Until(t, waitFor, "checkpoint past the new mail", func() bool {
		mc := h.checkpoint().Mailboxes["INBOX"]
		return mc.LastUID == uint32(later)
	})
	if st := status(sup); st.Name != "email.support" || st.Ingested != 3 || st.State != connectors.StateRunning {
		t.Fatalf("status %+v", st)
	}
}

// TestPollingWithoutIDLE polls when IDLE is off.
func TestPollingWithoutIDLE(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	o := h.options(s)
	o.IDLE, o.PollInterval = false, 50*time.Millisecond
	o.AfterIngest = ActionNone
	h.run(o)
	testwait.Until(t, waitFor, "first sync", func() bool { _, ok := h.checkpoint().Mailboxes["INBOX"]; return ok })
	uid := s.deliver(t, "INBOX", readFixture(t, "win1252_as_latin1.eml"), time.Now())
	envs := h.waitEnvelopes(1)
	if !strings.Contains(envs[0].Text, "149,90 €") {
		t.Fatalf("text %q", envs[0].Text)
	}
	// after_ingest: none leaves the mail unseen.
	if f := s.flags(t, "INBOX"); hasFlag(f[uid], imap.FlagSeen) {
		t.Fatal("after_ingest none marked the mail seen")
	}
}

func TestCanIdleFollowsCapabilities(t *testing.T) {
	for _, tt := range []struct {
		caps imap.CapSet
		want bool
	}{
		{imap.CapSet{imap.CapIMAP4rev1: {}}, false},
		{imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}}, true},
		{imap.CapSet{imap.CapIMAP4rev2: {}}, true},
	} {
		if got := canIdle(tt.caps); got != tt.want {
			t.Errorf("canIdle(%v) = %v, want %v", tt.caps, got, tt.want)
		}
	}
}

// TestMoveAfterIngest moves ingested mail to a folder it creates, and
// leaves dropped mail in the inbox.
func TestMoveAfterIngest(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	o := h.options(s)
	o.AfterIngest, o.MoveTo = ActionMove, "Käsitelty/Switchboard"
	s.deliver(t, "INBOX", readFixture(t, "attachment.eml"), time.Now().Add(-time.Minute))
	s.deliver(t, "INBOX", readFixture(t, "out_of_office.eml"), time.Now().Add(-time.Minute))
	h.run(o)
	envs := h.waitEnvelopes(1)
	if envs[0].Metadata["attachment_count"] != "2" {
		t.Fatalf("metadata %v", envs[0].Metadata)
	}
	testwait.Until(t, waitFor, "mail moved", func() bool { return len(s.flags(t, "INBOX")) == 1 })
	if moved := s.flags(t, "Käsitelty/Switchboard"); len(moved) != 1 {
		t.Fatalf("%d mails in the folder, want 1", len(moved))
	}
}

// TestRefusedMoveKeepsFlowing: when the server refuses the move (the folder
// was deleted under the running connector), the mail is still ingested,
// the refusal is counted and shown, and the mailbox keeps flowing.
func TestRefusedMoveKeepsFlowing(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	o := h.options(s)
	o.AfterIngest, o.MoveTo = ActionMove, "Done"
	sup, _ := h.run(o)
	testwait.Until(t, waitFor, "first sync", func() bool { _, ok := h.checkpoint().Mailboxes["INBOX"]; return ok })
	if err := s.user.Delete("Done"); err != nil {
		t.Fatal(err)
	}
	uid := s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now())
	h.waitEnvelopes(1)
	testwait.Until(t, waitFor, "checkpoint past the mail", func() bool { return h.checkpoint().Mailboxes["INBOX"].LastUID == uint32(uid) })
	if got := h.counter("switchboard_email_mailbox_action_failures_total", map[string]string{"action": "move"}); got != 1 {
		t.Fatalf("action failures = %v", got)
	}
	if _, ok := s.flags(t, "INBOX")[uid]; !ok {
		t.Fatal("the mail left the inbox although the move was refused")
	}
	if st := status(sup); !strings.Contains(st.LastError, "refused") || st.State != connectors.StateRunning {
		t.Fatalf("status %+v", st)
	}
	// The next mail flows as before.
	s.deliver(t, "INBOX", readFixture(t, "apple_mail_qp.eml"), time.Now())
	h.waitEnvelopes(2)
}

// TestRestartResumesFromCheckpoint: after a restart only mail past the
// checkpoint is read (after_ingest: none, so the flags cannot be what
// prevents a re-read).
func TestRestartResumesFromCheckpoint(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	o := h.options(s)
	o.AfterIngest = ActionNone
	s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Hour))
	s.deliver(t, "INBOX", readFixture(t, "attachment.eml"), time.Now().Add(-time.Hour))
	_, stop := h.run(o)
	h.waitEnvelopes(2)
	testwait.Until(t, waitFor, "checkpoint", func() bool { return h.checkpoint().Mailboxes["INBOX"].LastUID == 2 })
	stop()
	read := h.counter("switchboard_email_mails_read_total", nil)

	s.deliver(t, "INBOX", readFixture(t, "apple_mail_qp.eml"), time.Now())
	sup, _ := h.run(o)
	h.waitEnvelopes(3)
	// The envelope is in the stream before the status and the metric count
	// it: wait for both, then check nothing more was read.
	testwait.Until(t, waitFor, "the new mail counted", func() bool {
		return status(sup).Ingested >= 1 && h.counter("switchboard_email_mails_read_total", nil)-read >= 1
	})
	if st := status(sup); st.Ingested != 1 || st.Duplicates != 0 {
		t.Fatalf("status %+v: want only the new mail read", st)
	}
	if got := h.counter("switchboard_email_mails_read_total", nil) - read; got != 1 {
		t.Fatalf("%v mails read after the restart, want 1", got)
	}
}

// TestMultipleMailboxesAndDuplicates watches two mailboxes over two
// connections; the same mail delivered to both is stored once.
func TestMultipleMailboxesAndDuplicates(t *testing.T) {
	s := startServer(t, serverOpts{})
	if err := s.user.Create("Laskut", nil); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	o := h.options(s)
	o.Mailboxes = []string{"INBOX", "Laskut"}
	raw := readFixture(t, "win1252_as_latin1.eml")
	s.deliver(t, "INBOX", raw, time.Now().Add(-time.Minute))
	s.deliver(t, "Laskut", raw, time.Now().Add(-time.Minute))
	s.deliver(t, "Laskut", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Minute))
	sup, _ := h.run(o)
	h.waitEnvelopes(2)
	testwait.Until(t, waitFor, "both mailboxes checkpointed", func() bool {
		cp := h.checkpoint()
		return cp.Mailboxes["INBOX"].LastUID == 1 && cp.Mailboxes["Laskut"].LastUID == 2
	})
	if st := status(sup); st.Ingested != 2 || st.Duplicates != 1 {
		t.Fatalf("status %+v, want 2 ingested and 1 duplicate", st)
	}
}

// TestUIDValidityResync: the mailbox is rebuilt with a new UIDVALIDITY (as
// after a server migration). The connector re-reads what arrived since the
// last mail it read; the re-read mail is a duplicate by Message-ID and is
// not stored again, the new mail is.
func TestUIDValidityResync(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	t1 := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	t2 := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	a, b := readFixture(t, "gmail_reply.eml"), readFixture(t, "outlook_fi_reply.eml")
	s.deliver(t, "INBOX", a, t1)
	s.deliver(t, "INBOX", b, t2)
	_, stop := h.run(h.options(s))
	h.waitEnvelopes(2)
	testwait.Until(t, waitFor, "checkpoint", func() bool { return h.checkpoint().Mailboxes["INBOX"].LastUID == 2 })
	before := h.checkpoint().Mailboxes["INBOX"]
	stop()

	// Rebuild the mailbox: same mail, same arrival times, new UIDs.
	s.recreate(t, "INBOX")
	s.deliver(t, "INBOX", a, t1, imap.FlagSeen)
	s.deliver(t, "INBOX", b, t2, imap.FlagSeen)
	s.deliver(t, "INBOX", readFixture(t, "apple_mail_qp.eml"), time.Now().Add(-time.Hour))

	sup, _ := h.run(h.options(s))
	envs := h.waitEnvelopes(3)
	if envs[2].Author.Name != "Liisa Virtanen" {
		t.Fatalf("new mail not ingested: %+v", envs[2])
	}
	testwait.Until(t, waitFor, "resync checkpointed", func() bool {
		mc := h.checkpoint().Mailboxes["INBOX"]
		return mc.UIDValidity != before.UIDValidity && mc.LastUID == 3
	})
	if st := status(sup); st.Ingested != 1 || st.Duplicates != 1 {
		t.Fatalf("status %+v: want the new mail ingested and the re-read one deduplicated", st)
	}
	if got := h.counter("switchboard_email_uidvalidity_resyncs_total", map[string]string{"account": "support"}); got != 1 {
		t.Fatalf("resyncs = %v", got)
	}
}

// TestFirstStartWindow: the first start reads the backfill window (unseen
// mail only with after_ingest: seen); backfill 0 reads only new mail.
func TestFirstStartWindow(t *testing.T) {
	t.Run("backfill", func(t *testing.T) {
		s := startServer(t, serverOpts{})
		h := newHarness(t)
		s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-48*time.Hour))                  // too old
		s.deliver(t, "INBOX", readFixture(t, "outlook_fi_reply.eml"), time.Now().Add(-time.Hour), imap.FlagSeen) // read by a person
		s.deliver(t, "INBOX", readFixture(t, "apple_mail_qp.eml"), time.Now().Add(-time.Hour))
		h.run(h.options(s))
		envs := h.waitEnvelopes(1)
		if envs[0].Author.Name != "Liisa Virtanen" {
			t.Fatalf("ingested %+v", envs[0].Author)
		}
		testwait.Until(t, waitFor, "checkpoint at the end", func() bool { return h.checkpoint().Mailboxes["INBOX"].LastUID == 3 })
	})
	t.Run("no backfill", func(t *testing.T) {
		s := startServer(t, serverOpts{})
		h := newHarness(t)
		s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Minute))
		o := h.options(s)
		o.Backfill = 0
		h.run(o)
		testwait.Until(t, waitFor, "first checkpoint", func() bool { return h.checkpoint().Mailboxes["INBOX"].LastUID == 1 })
		s.deliver(t, "INBOX", readFixture(t, "apple_mail_qp.eml"), time.Now())
		envs := h.waitEnvelopes(1)
		if envs[0].Author.Name != "Liisa Virtanen" {
			t.Fatalf("ingested %+v", envs[0].Author)
		}
	})
}

// flakyPublisher fails while failing is set, without storing anything.
type flakyPublisher struct {
	next    connectors.Publisher
	failing atomic.Bool
	tries   atomic.Int32
}

func (p *flakyPublisher) PublishIngest(ctx context.Context, env *message.Envelope) (bool, error) {
	p.tries.Add(1)
	if p.failing.Load() {
		return false, errors.New("jetstream: no responders")
	}
	return p.next.PublishIngest(ctx, env)
}

// TestNoActionBeforeAck: while publishing fails, the mail is neither marked
// seen nor checkpointed; once publishing works it is ingested and marked.
func TestNoActionBeforeAck(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	flaky := &flakyPublisher{next: h.bus}
	flaky.failing.Store(true)
	h.pub = flaky
	uid := s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Minute))
	sup, _ := h.run(h.options(s))
	testwait.Until(t, waitFor, "publish retried after failures", func() bool { return flaky.tries.Load() >= 3 })
	if f := s.flags(t, "INBOX"); hasFlag(f[uid], imap.FlagSeen) {
		t.Fatal("mail marked seen although its publish failed")
	}
	if mc, ok := h.checkpoint().Mailboxes["INBOX"]; ok && mc.LastUID >= uint32(uid) {
		t.Fatalf("checkpoint advanced past an unpublished mail: %+v", mc)
	}
	if st := status(sup); !strings.Contains(st.LastError, "no responders") {
		t.Fatalf("last error %q", st.LastError)
	}
	flaky.failing.Store(false)
	h.waitEnvelopes(1)
	testwait.Until(t, waitFor, "marked seen after the ack", func() bool { return hasFlag(s.flags(t, "INBOX")[uid], imap.FlagSeen) })
}

// TestWrongPassword marks the connector unauthorized and never shows the
// password.
func TestWrongPassword(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	o := h.options(s)
	o.Password = "wrong-password-123"
	sup, _ := h.run(o)
	testwait.Until(t, waitFor, "unauthorized state", func() bool { return status(sup).State == connectors.StateUnauthorized })
	st := status(sup)
	if !strings.Contains(st.LastError, "logging in to") || strings.Contains(st.LastError, "wrong-password-123") {
		t.Fatalf("last error %q", st.LastError)
	}
	if s := fmt.Sprintf("%v %+v", o, o); strings.Contains(s, "wrong-password-123") {
		t.Fatalf("options print the password: %s", s)
	}
}

// TestOverSizeMail ingests a mail over the limit with its headers, a cut
// body and the truncated flag.
func TestOverSizeMail(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	o := h.options(s)
	o.MaxMessageBytes = 4096
	big := rawMail("Subject: Iso liite\nContent-Type: multipart/mixed; boundary=m",
		"--m\nContent-Type: text/plain\n\nLiitteenä lokitiedosto.\n--m\nContent-Type: application/octet-stream; name=loki.bin\nContent-Transfer-Encoding: base64\n\n"+
			strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n", 2000)+"--m--\n")
	s.deliver(t, "INBOX", big, time.Now().Add(-time.Minute))
	h.run(o)
	env := h.waitEnvelopes(1)[0]
	if env.Subject != "Iso liite" || env.Text != "Liitteenä lokitiedosto." || env.Metadata["flags"] != flagTruncated {
		t.Fatalf("envelope subject %q text %q metadata %v", env.Subject, env.Text, env.Metadata)
	}
	if env.Metadata["size"] != fmt.Sprint(len(big)) {
		t.Fatalf("size %q, want %d", env.Metadata["size"], len(big))
	}
	if got := h.counter("switchboard_email_flagged_total", map[string]string{"flag": flagTruncated}); got != 1 {
		t.Fatalf("flagged{truncated} = %v", got)
	}
}

// TestTLS connects with implicit TLS and STARTTLS to a server whose
// self-signed certificate the client trusts, and refuses a
// certificate for another host.
func TestTLS(t *testing.T) {
	cert, pool := tlstest.SelfSigned(t, "127.0.0.1")
	for _, mode := range []TLSMode{TLSImplicit, TLSStartTLS} {
		t.Run(string(mode), func(t *testing.T) {
			s := startServer(t, serverOpts{tls: string(mode), cert: cert})
			h := newHarness(t)
			o := h.options(s)
			o.TLS, o.TLSConfig = mode, &tls.Config{RootCAs: pool}
			s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Minute))
			h.run(o)
			h.waitEnvelopes(1)
		})
	}
	t.Run("wrong host", func(t *testing.T) {
		other, otherPool := tlstest.SelfSigned(t, "10.9.9.9")
		s := startServer(t, serverOpts{tls: "implicit", cert: other})
		h := newHarness(t)
		o := h.options(s)
		o.TLS, o.TLSConfig = TLSImplicit, &tls.Config{RootCAs: otherPool}
		sup, _ := h.run(o)
		testwait.Until(t, waitFor, "a TLS error", func() bool { return strings.Contains(status(sup).LastError, "certificate") })
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	good := Options{Account: "a", Addr: "h:993", TLS: TLSImplicit, Mailboxes: []string{"INBOX"}, AfterIngest: ActionSeen, PollInterval: time.Minute, MaxMessageBytes: 1 << 20}
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"bad account", func(o *Options) { o.Account = "A B" }, "account name"},
		{"bad addr", func(o *Options) { o.Addr = "h" }, "want host:port"},
		{"bad tls", func(o *Options) { o.TLS = "ssl" }, "tls \"ssl\""},
		{"move without folder", func(o *Options) { o.AfterIngest = ActionMove }, "needs a folder"},
		{"bad action", func(o *Options) { o.AfterIngest = "delete" }, "after_ingest \"delete\""},
		{"no mailboxes", func(o *Options) { o.Mailboxes = nil }, "no mailboxes"},
		{"no interval", func(o *Options) { o.PollInterval = 0 }, "poll interval"},
		{"tiny max", func(o *Options) { o.MaxMessageBytes = 10 }, "max message bytes"},
	}
	if _, err := New(good); err != nil {
		t.Fatalf("good options: %v", err)
	}
	for _, tt := range tests {
		o := good
		tt.mutate(&o)
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// silentServer greets like an IMAP server and then never answers, as a hung
// server behind a live TCP connection does.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = conn.Write([]byte("* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n"))
				go func() { _, _ = io.Copy(io.Discard, conn) }()
				<-done
			}()
		}
	}()
	return ln.Addr().String()
}

// TestHungServerIsDetected: a server that stops answering while the
// connection stays up fails the mailbox (so the supervisor reconnects and
// the status shows it) instead of stalling it until the daemon stops.
func TestHungServerIsDetected(t *testing.T) {
	addr := silentServer(t)
	c, err := New(Options{Account: "a", Addr: addr, TLS: TLSNone, Username: testUser, Password: testPassword,
		Mailboxes: []string{"INBOX"}, AfterIngest: ActionSeen, PollInterval: time.Minute, MaxMessageBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	c.ioTimeout = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	s, err := c.open(ctx, "INBOX")
	if err == nil {
		s.close()
		t.Fatal("open succeeded against a server that never answers")
	}
	if d := time.Since(start); d > 5*time.Second || ctx.Err() != nil {
		t.Fatalf("open returned after %v (%v): the silence was not detected", d, err)
	}
	if !strings.Contains(err.Error(), "logging in to") {
		t.Fatalf("error %v, want the login that got no answer", err)
	}
}

// TestStopsPromptlyWhileIdling: ending the context while the connector
// idles (poll interval an hour) stops it at once.
func TestStopsPromptlyWhileIdling(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	sup, stop := h.run(h.options(s))
	// The first sync succeeded: the next thing the mailbox does is IDLE.
	testwait.Until(t, waitFor, "first sync", func() bool { return status(sup).LastSuccess != nil })
	start := time.Now()
	stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if st := status(sup); st.State != connectors.StateStopped {
		t.Fatalf("state %s, want stopped", st.State)
	}
}
