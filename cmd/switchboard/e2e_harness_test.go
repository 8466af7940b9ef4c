package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/connectors/facebook/fbtest"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

// The end-to-end harness: the switchboard binary as a subprocess against the
// fake Facebook Graph API (fbtest), the fake X API v2 (xtest) and go-imap's
// in-memory IMAP server, reading what it routed from the team stream.

// The accounts the fakes serve.
const (
	e2ePageID    = "104123456789"
	e2ePageToken = "EAA-e2e-page-token"
	e2eXAccount  = "1500000000000000001" // xtest's access token is this account's
	e2eXHandle   = "acme"
	e2eMailbox   = "tuki@yritys.fi"
	e2eMailPW    = "imap-pw-e2e"
)

// e2eRules routes by Finnish and English words to four teams and the rest
// to triage. No route matches a greeting, "sama juttu", "+1", "still
// nothing", "kiitos" or an order number: those decide nothing by their own
// text and take their context. The teams are prepended by newE2E.
const e2eRules = `routes:
  - id: billing
    team: billing
    match: {text: {any: [lasku, laskutus, invoice, billing, refund]}}
  - id: logistics
    team: logistics
    match: {text: {any: [paketti, toimitus, delivery, =package, =packages, arrived, shipping]}}
  - id: sales
    team: sales
    match: {text: {any: [hinta, paljonko, price, discount, alennus]}}
  - id: product
    team: product
    match: {text: {any: [rikki, broken, sovellus, app, crash, kaatuu]}}
`

// buildSwitchboard builds the daemon binary into a temporary directory,
// with -race when the tests run with it (so the build reuses the packages
// the test binary was compiled from).
func buildSwitchboard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	if out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// e2eEnv is one daemon's world: its files, the fakes it polls and the
// running process.
type e2eEnv struct {
	t        *testing.T
	bin      string
	dir      string
	cfgPath  string
	cfgRest  string // the config after http and nats
	cfg      *config.Config
	httpAddr string
	logFile  *os.File

	fb   *fbtest.Server
	x    *xtest.Server
	mail *imapmemserver.User

	proc *daemonProc
}

// newE2E starts the fakes and writes the daemon's rules (e2eRules, with
// the targets given per team; a team not given has one NATS target) and
// config: every channel on at its shortest poll interval, the intake off.
func newE2E(t *testing.T, bin string, targets map[string]string) *e2eEnv {
	t.Helper()
	e := &e2eEnv{t: t, bin: bin, dir: t.TempDir()}

	e.fb = fbtest.New(t, config.DefaultFacebookGraphVersion, time.Now())
	e.fb.AddPage(e2ePageID, "Kodin Kauppa", e2ePageToken)

	e.x = xtest.New(t)
	e.x.AddUser(xtest.User{ID: e2eXAccount, Username: e2eXHandle, Name: "Acme"})

	mem := imapmemserver.New()
	e.mail = imapmemserver.NewUser(e2eMailbox, e2eMailPW)
	if err := e.mail.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(e.mail)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
		// A killed daemon resets its connections; not worth a line each.
		Logger: log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	imapHost, imapPort, _ := net.SplitHostPort(ln.Addr().String())

	var rules strings.Builder
	rules.WriteString("default_team: triage\nteams:\n")
	for _, team := range []string{"triage", "billing", "logistics", "sales", "product"} {
		fmt.Fprintf(&rules, "  - name: %s\n", team)
		if tg := targets[team]; tg != "" {
			rules.WriteString(tg + "\n")
		}
	}
	rules.WriteString(e2eRules)
	if err := os.WriteFile(filepath.Join(e.dir, "rules.yaml"), []byte(rules.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cfgRest = fmt.Sprintf(`router: {workers: 4, ack_wait: 2s}
delivery: {retry_min: 50ms, retry_max: 500ms}
supervisor: {backoff_min: 100ms, backoff_max: 2s}
shutdown_timeout: 10s
connectors:
  intake: {enabled: false}
  facebook:
    base_url: %q
    pages:
      - id: %q
        name: Kodin Kauppa
        token: %q
        poll_interval: 10s
        backfill: 7d
  x:
    enabled: true
    base_url: %q
    user_id: %q
    bearer_token: %q
    mentions: true
    searches:
      - {name: brand, query: acme}
    dms:
      enabled: true
      oauth1:
        consumer_key: %q
        consumer_secret: %q
        access_token: %q
        access_token_secret: %q
    poll_interval: 10s
`, e.fb.URL(), e2ePageID, e2ePageToken,
		e.x.URL, e2eXAccount, e.x.AppToken, e.x.ConsumerKey, e.x.ConsumerSecret, e.x.AccessToken, e.x.AccessTokenSecret) +
		emailSection(imapHost, imapPort, e2eMailbox, strconv.Quote(e2eMailPW), "1s")
	e.cfgPath = filepath.Join(e.dir, "config.yaml")
	e.writeConfig()
	if e.logFile, err = os.Create(filepath.Join(e.dir, "daemon.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log:\n%s", readTail(e.logFile.Name()))
		}
		e.logFile.Close()
	})
	return e
}

// writeConfig writes the config with fresh listen addresses and loads it.
func (e *e2eEnv) writeConfig() {
	e.t.Helper()
	e.httpAddr = freeAddr(e.t)
	y := fmt.Sprintf("data_dir: data\nlog: {format: json, level: info}\nhttp: {listen: %q}\nnats: {embedded: {listen: %q}}\n%s",
		e.httpAddr, freeAddr(e.t), e.cfgRest)
	if err := os.WriteFile(e.cfgPath, []byte(y), 0o600); err != nil {
		e.t.Fatal(err)
	}
	var err error
	if e.cfg, err = config.Load(e.cfgPath); err != nil {
		e.t.Fatal(err)
	}
}

// start runs the binary on the env's config and data dir until it is
// ready. freeAddr's addresses were free a moment before; when one was taken
// meanwhile (other daemons, their connections and the fakes bind ports
// too), the start is tried again on new ones.
func (e *e2eEnv) start() {
	e.t.Helper()
	for attempt := 1; ; attempt++ {
		from, err := e.logFile.Seek(0, io.SeekCurrent) // the daemon shares the file offset
		if err != nil {
			e.t.Fatal(err)
		}
		if e.proc = e.launch(); e.proc != nil {
			return
		}
		b, _ := os.ReadFile(e.logFile.Name())
		if attempt == 3 || int(from) > len(b) || !strings.Contains(string(b[from:]), "address already in use") {
			e.t.Fatalf("the daemon exited before it was ready:\n%s", readTail(e.logFile.Name()))
		}
		e.t.Logf("a listen address was taken; starting again on others")
		e.writeConfig()
	}
}

// launch starts the binary (see launchProc) and waits until /readyz answers
// 200; nil when it exited first.
func (e *e2eEnv) launch() *daemonProc {
	e.t.Helper()
	return launchProc(e.t, e.bin, e.cfgPath, e.httpAddr, e.logFile)
}

// fbNow moves the fake Graph API's clock (the Date of its answers, which
// the connector takes as its watermark) up to the wall clock and returns it.
func (e *e2eEnv) fbNow() time.Time {
	now := time.Now()
	if d := now.Sub(e.fb.Now()); d > 0 {
		e.fb.Advance(d)
	}
	return e.fb.Now()
}

// deliverMail appends a raw mail (LF line ends) to the IMAP inbox.
func (e *e2eEnv) deliverMail(raw string) {
	e.t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	if _, err := e.mail.Append("INBOX", imapLiteral{bytes.NewReader([]byte(raw))}, &imap.AppendOptions{Time: time.Now().Add(-time.Second)}); err != nil {
		e.t.Fatal(err)
	}
}

// customerMail builds a mail to the support mailbox.
func customerMail(from, msgID, inReplyTo, subject, body string, extraHeaders ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\nDate: %s\n", from, e2eMailbox, subject, msgID, time.Now().Format(time.RFC1123Z))
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\nReferences: <%s>\n", inReplyTo, inReplyTo)
	}
	for _, h := range extraHeaders {
		b.WriteString(h + "\n")
	}
	b.WriteString("\n" + body + "\n")
	return b.String()
}

// dial connects to the daemon's embedded NATS as the CLI does.
func (e *e2eEnv) dial(ctx context.Context) jetstream.JetStream {
	e.t.Helper()
	nc, js := dialBus(ctx, e.t, e.cfg, "e2e-test")
	e.t.Cleanup(nc.Close)
	return js
}

// routerIdle reports whether the router has nothing left to route: every
// ingest message was delivered to it and acked.
func (e *e2eEnv) routerIdle(ctx context.Context, js jetstream.JetStream) error {
	return e.routerHolding(ctx, js, 0)
}

// routerHolding reports whether every ingest message was delivered to the
// router and exactly unacked of them still wait for its ack.
func (e *e2eEnv) routerHolding(ctx context.Context, js jetstream.JetStream, unacked int) error {
	cons, err := js.Consumer(ctx, e.cfg.Streams.Ingest.Name, e.cfg.Router.Consumer)
	if err != nil {
		return err
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	if ci.NumPending != 0 || ci.NumAckPending != unacked {
		return fmt.Errorf("router: %d ingest messages not delivered yet, %d not acked", ci.NumPending, ci.NumAckPending)
	}
	return nil
}

// streamMsgs returns the data of every message in stream whose subject
// starts with prefix, in stream order.
func streamMsgs(ctx context.Context, js jetstream.JetStream, stream, prefix string) ([][]byte, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	if info.State.Msgs == 0 {
		return nil, nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		if strings.HasPrefix(m.Subject, prefix) {
			out = append(out, m.Data)
		}
	}
	return out, nil
}

// routedItems returns every routed item in the NATS team stream, all teams.
func (e *e2eEnv) routedItems(ctx context.Context, js jetstream.JetStream) []message.Routed {
	e.t.Helper()
	subjects := bus.NewSubjects(e.cfg.Streams)
	data, err := streamMsgs(ctx, js, subjects.TeamStream, strings.TrimSuffix(subjects.AllTeams(), ">"))
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]message.Routed, 0, len(data))
	for _, d := range data {
		var r message.Routed
		if err := json.Unmarshal(d, &r); err != nil {
			e.t.Fatalf("team stream holds something that is not a routed item: %v: %.200s", err, d)
		}
		out = append(out, r)
	}
	return out
}

// ingestedIDs counts the envelopes in the ingest stream by id.
func (e *e2eEnv) ingestedIDs(ctx context.Context, js jetstream.JetStream) map[string]int {
	e.t.Helper()
	subjects := bus.NewSubjects(e.cfg.Streams)
	data, err := streamMsgs(ctx, js, subjects.IngestStream, strings.TrimSuffix(subjects.AllIngest(), ">"))
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range data {
		var env message.Envelope
		if err := json.Unmarshal(d, &env); err != nil {
			e.t.Fatalf("ingest stream holds something that is not an envelope: %v: %.200s", err, d)
		}
		out[env.ID]++
	}
	return out
}

// deadLetters returns how many dead letters the daemon wrote.
func (e *e2eEnv) deadLetters(ctx context.Context, js jetstream.JetStream) uint64 {
	e.t.Helper()
	s, err := js.Stream(ctx, e.cfg.Streams.Dead.Name)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.State.Msgs
}

// waitRouted waits until the team stream holds at least n items and the
// router has nothing in flight, and returns every routed item.
func (e *e2eEnv) waitRouted(ctx context.Context, js jetstream.JetStream, n int, timeout time.Duration) []message.Routed {
	e.t.Helper()
	teamStream := bus.NewSubjects(e.cfg.Streams).TeamStream
	testwait.NoError(e.t, timeout, fmt.Sprintf("%d routed items and an idle router", n), func() error {
		s, err := js.Stream(ctx, teamStream)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		if info.State.Msgs < uint64(n) {
			return fmt.Errorf("%d routed items so far", info.State.Msgs)
		}
		return e.routerIdle(ctx, js)
	})
	return e.routedItems(ctx, js)
}

// opsGet GETs path with the ops token the daemon generated into its data
// dir (the console and the /v1 read endpoints need it) and returns the
// status and body, for diagnostics.
func (e *e2eEnv) opsGet(path string) string {
	tok, err := os.ReadFile(filepath.Join(e.dir, "data", "ops-token"))
	if err != nil {
		return fmt.Sprintf("(no ops token: %v)", err)
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+e.httpAddr+path, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Sprintf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	return fmt.Sprintf("GET %s: %s\n%s", path, resp.Status, b)
}

// trace returns an item's decision record from GET /v1/messages/{id} and
// the daemon's log lines that name it.
func (e *e2eEnv) trace(id string) string {
	var lines []string
	if b, err := os.ReadFile(e.logFile.Name()); err == nil {
		for l := range strings.Lines(string(b)) {
			if strings.Contains(l, `"`+id+`"`) {
				lines = append(lines, l)
			}
		}
	}
	return e.opsGet("/v1/messages/"+url.PathEscape(id)) + "\ndaemon log lines naming it:\n" + strings.Join(lines, "")
}

// hookGate is a webhook receiver that holds every request until it is
// opened (or the sender goes away), then answers 200. It records how often
// each Idempotency-Key was answered 200.
type hookGate struct {
	srv *httptest.Server

	mu       sync.Mutex
	open     bool
	opened   chan struct{}
	held     int
	accepted map[string]int
}

func newHookGate(t *testing.T) *hookGate {
	g := &hookGate{opened: make(chan struct{}), accepted: map[string]int{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	t.Cleanup(g.release) // runs first: nothing held when the server closes
	return g
}

func (g *hookGate) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	key := strings.Trim(r.Header.Get("Idempotency-Key"), `"`)
	g.mu.Lock()
	open := g.open
	if !open {
		g.held++
	}
	g.mu.Unlock()
	if !open {
		select {
		case <-g.opened:
		case <-r.Context().Done():
		}
		g.mu.Lock()
		g.held--
		g.mu.Unlock()
		if r.Context().Err() != nil {
			return // the sender is gone (killed): it never heard an answer
		}
	}
	g.mu.Lock()
	g.accepted[key]++
	g.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// holding returns how many requests wait for the gate now.
func (g *hookGate) holding() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// release opens the gate for good.
func (g *hookGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open {
		g.open = true
		close(g.opened)
	}
}

// acceptedKeys returns the Idempotency-Keys answered 200.
func (g *hookGate) acceptedKeys() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]int, len(g.accepted))
	for k, v := range g.accepted {
		out[k] = v
	}
	return out
}

// gatedTargets is a team's targets block: its NATS queue and a webhook to
// the gate.
func gatedTargets(g *hookGate) string {
	return fmt.Sprintf(`    targets:
      - type: nats
      - type: webhook
        url: %s/hook
        timeout: 30s`, g.srv.URL)
}
