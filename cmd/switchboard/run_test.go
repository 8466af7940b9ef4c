package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

const testRules = `default_team: triage
teams:
  - name: triage
  - name: billing
  - name: logistics
routes:
  - id: billing
    team: billing
    match: {text: {any: [lasku, invoice]}}
  - id: logistics
    team: logistics
    match: {text: {any: [paketti]}}
`

// freeAddr returns a free 127.0.0.1 address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// testOpsToken is the ops token of testConfig's daemons; httpGet sends it.
const testOpsToken = "test-ops-token-0123456789"

// testConfig writes a config file and rules into a temp dir and loads it.
func testConfig(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "rules.yaml", testRules)
	y := fmt.Sprintf(`data_dir: data
log: {format: console, level: warn}
http: {listen: %q, ops: {tokens: [{name: test, role: admin, token: %s}]}}
nats: {embedded: {listen: %q}}
router: {workers: 4}
shutdown_timeout: 10s
connectors:
  intake: {enabled: true, token: t0ken}
`, freeAddr(t), testOpsToken, freeAddr(t))
	return loadTestConfig(t, dir, y)
}

// loadTestConfig writes y to dir/config.yaml and loads it.
func loadTestConfig(t *testing.T, dir, y string) (*config.Config, string) {
	t.Helper()
	path := writeFile(t, dir, "config.yaml", y)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// startDaemon runs a daemon until the returned stop is called; stop waits
// for it to exit and fails the test if run returned an error.
// Options set further daemon fields before it starts. A port that
// freeAddr found free but another process took meanwhile is replaced and
// the start tried again.
func startDaemon(t *testing.T, cfg *config.Config, options ...func(*daemon)) (d *daemon, stop func()) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		d, stop, err := tryStartDaemon(t, cfg, options...)
		if err == nil {
			return d, stop
		}
		if attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("daemon exited before ready: %v", err)
		}
		t.Logf("a port was taken meanwhile (%v); starting on new ports", err)
		if cfg.HTTP.Listen != "" {
			cfg.HTTP.Listen = freeAddr(t)
		}
		if cfg.NATS.Embedded.Listen != "" {
			cfg.NATS.Embedded.Listen = freeAddr(t)
		}
	}
}

func tryStartDaemon(t *testing.T, cfg *config.Config, options ...func(*daemon)) (d *daemon, stop func(), err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d = newDaemon(cfg, bustest.Logger(t))
	d.ready = make(chan struct{})
	for _, o := range options {
		o(d)
	}
	done := make(chan error, 1)
	go func() { done <- d.run(ctx) }()
	var early error
	testwait.Until(t, 30*time.Second, "the daemon to be ready", func() bool {
		select {
		case <-d.ready:
			return true
		case early = <-done:
			return true
		default:
		}
		return false
	})
	if !isReady(d) {
		cancel()
		if early == nil {
			early = errors.New("stopped before ready")
		}
		return nil, nil, early
	}
	t.Cleanup(cancel)
	stop = sync.OnceFunc(func() {
		cancel()
		if err := testwait.Receive(t, 30*time.Second, "the daemon to stop", done); err != nil {
			t.Errorf("daemon run: %v", err)
		}
	})
	t.Cleanup(stop)
	return d, stop, nil
}

// isReady reports whether d announced it is ready.
func isReady(d *daemon) bool {
	select {
	case <-d.ready:
		return true
	default:
		return false
	}
}

// postMessage posts body to the intake and returns the item's id; the
// intake must answer 202 (stored).
func postMessage(t *testing.T, addr, body string) string {
	t.Helper()
	id, code := postIntake(t, addr, body)
	if code != http.StatusAccepted {
		t.Fatalf("intake answered %d", code)
	}
	return id
}

// postIntake posts body to the intake and returns the id and the status.
func postIntake(t *testing.T, addr, body string) (string, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t0ken")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		ID        string
		Duplicate bool
	}
	_ = json.NewDecoder(resp.Body).Decode(&r)
	if r.Duplicate != (resp.StatusCode == http.StatusOK) {
		t.Fatalf("intake answered %d with duplicate %v", resp.StatusCode, r.Duplicate)
	}
	return r.ID, resp.StatusCode
}

// httpGet returns the status and body of GET path on the daemon, asked
// with testOpsToken.
func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	return httpGetToken(t, addr, path, testOpsToken)
}

// httpGetToken is httpGet with token as the bearer token, or none when it
// is empty.
func httpGetToken(t *testing.T, addr, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp.StatusCode, b.String()
}

// dialBus connects to the daemon's NATS as a client named name, like the
// CLI does; the caller closes nc.
func dialBus(ctx context.Context, t *testing.T, cfg *config.Config, name string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, js, err := bus.Dial(ctx, cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// teamItems reads every routed item in the team stream (via a fresh client).
func teamItems(t *testing.T, cfg *config.Config, team string, want int) []message.Routed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, js := dialBus(ctx, t, cfg, "test")
	defer nc.Close()
	stream, err := js.Stream(ctx, cfg.Streams.Team.Name)
	if err != nil {
		t.Fatal(err)
	}
	subject := bus.NewSubjects(cfg.Streams).Team(team)
	var out []message.Routed
	testwait.NoError(t, 10*time.Second, fmt.Sprintf("%d items in team %s's queue", want, team), func() error {
		out = out[:0]
		info, err := stream.Info(ctx)
		if err != nil {
			return err
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := stream.GetMsg(ctx, seq)
			if err != nil || m.Subject != subject {
				continue // deleted or another team's item
			}
			var r message.Routed
			if err := json.Unmarshal(m.Data, &r); err != nil {
				t.Fatalf("team item is not a routed envelope: %v", err)
			}
			out = append(out, r)
		}
		if len(out) < want {
			return fmt.Errorf("%d items so far", len(out))
		}
		return nil
	})
	return out
}

func TestEndToEndIntakeToTeamQueue(t *testing.T) {
	cfg, cfgPath := testConfig(t)
	d, _ := startDaemon(t, cfg)
	id := postMessage(t, d.httpAddr, `{"text":"Missä on LASKU?","author":{"name":"Maija"},"lang":"fi"}`)
	postMessage(t, d.httpAddr, `{"text":"hello there"}`)

	// switchboard tail prints the routed item as one JSON line; flags may
	// follow the team, as in docs/delivery.md.
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if code := tailCmd(ctx, []string{"billing", "-config", cfgPath, "-from", "all", "-n", "1"}, &out, &errOut); code != 0 {
		t.Fatalf("tail exit %d: %s", code, errOut.String())
	}
	var none bytes.Buffer
	if code := tailCmd(ctx, []string{"-config", cfgPath, "biling"}, &out, &none); code != 1 ||
		!strings.Contains(none.String(), `no team "biling" in `) || !strings.Contains(none.String(), "the teams are: triage, billing, logistics") {
		t.Fatalf("tail of an unknown team: exit %d: %s", code, none.String())
	}
	var r message.Routed
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &r); err != nil {
		t.Fatalf("tail output %q: %v", out.String(), err)
	}
	if r.ID != id || r.Team != "billing" || r.Author.Name != "Maija" || len(r.Route.Matched) != 1 || r.Route.Matched[0] != "billing" || r.Route.RulesVersion == "" || r.RoutedAt.IsZero() {
		t.Fatalf("routed item %+v", r)
	}
	if got := teamItems(t, cfg, "triage", 1); len(got) != 1 || got[0].Text != "hello there" {
		t.Fatalf("default team got %+v", got)
	}
	// An item without a language gets the one the rules detected.
	postMessage(t, d.httpAddr, `{"text":"Paketti ei ole vieläkään tullut perille, missä se on?"}`)
	if got := teamItems(t, cfg, "logistics", 1); len(got) != 1 || got[0].Lang != "fi" {
		t.Fatalf("logistics got %+v, want lang fi detected", got)
	}

	// Ops endpoints.
	for path, want := range map[string]string{
		"/healthz":       `"ok"`,
		"/readyz":        `"ready"`,
		"/v1/connectors": `"items_ingested": 3`,
		"/metrics":       `switchboard_routed_total{team="billing"} 1`,
	} {
		if code, body := httpGet(t, d.httpAddr, path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, want it to contain %s:\n%.2000s", path, code, want, body)
		}
	}
	// Without the ops token only the probes answer, and /readyz says no more
	// than ready or not.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 401, "/v1/connectors": 401, "/readyz?verbose": 401} {
		if code, _ := httpGetToken(t, d.httpAddr, path, ""); code != want {
			t.Errorf("GET %s without a token = %d, want %d", path, code, want)
		}
	}
}

func TestRestartNoDuplicateNothingLost(t *testing.T) {
	cfg, _ := testConfig(t)
	d, stop := startDaemon(t, cfg)
	for i := range 5 {
		postMessage(t, d.httpAddr, fmt.Sprintf(`{"id":"r%d","text":"invoice %d"}`, i, i))
	}
	if got := teamItems(t, cfg, "billing", 5); len(got) != 5 {
		t.Fatalf("before restart: %d items", len(got))
	}
	stop()

	d, _ = startDaemon(t, cfg)
	// A client retry of an already ingested message is stored once, and
	// the answer says so.
	if id, code := postIntake(t, d.httpAddr, `{"id":"r0","text":"invoice 0"}`); code != http.StatusOK || id != "web:r0" {
		t.Fatalf("a retry after the restart: %d %s, want 200 web:r0", code, id)
	}
	postMessage(t, d.httpAddr, `{"id":"r5","text":"invoice 5"}`)
	got := teamItems(t, cfg, "billing", 6)
	seen := map[string]int{}
	for _, r := range got {
		seen[r.ID]++
	}
	if len(got) != 6 || len(seen) != 6 {
		t.Fatalf("after restart: %d items, %d distinct: %v", len(got), len(seen), seen)
	}
	_, body := httpGet(t, d.httpAddr, "/v1/connectors")
	var st struct {
		Connectors []struct {
			Ingested   int `json:"items_ingested"`
			Duplicates int `json:"duplicates"`
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("GET /v1/connectors: %v\n%s", err, body)
	}
	if len(st.Connectors) != 1 || st.Connectors[0].Ingested != 1 || st.Connectors[0].Duplicates != 1 {
		t.Fatalf("intake status after restart: %+v", st)
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	cfg, _ := testConfig(t)
	d, stop := startDaemon(t, cfg)
	const n = 40
	for i := range n {
		postMessage(t, d.httpAddr, fmt.Sprintf(`{"id":"g%d","text":"paketti %d"}`, i, i))
	}
	stop() // returns once the daemon exited

	// Nothing is left in flight: every fetched message was acked.
	b := bustest.Open(t, cfg)
	ctx := context.Background()
	cons, err := b.JS.Consumer(ctx, cfg.Streams.Ingest.Name, cfg.Router.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Fatalf("after shutdown: %d unacked, %d redelivered", info.NumAckPending, info.NumRedelivered)
	}
	routed := info.AckFloor.Stream
	s, _ := b.JS.Stream(ctx, cfg.Streams.Team.Name)
	si, _ := s.Info(ctx)
	if si.State.Msgs != routed {
		t.Fatalf("team stream holds %d, router acked through %d", si.State.Msgs, routed)
	}
}

func TestRunFailsClearlyOnBadConfigAndTakenPort(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "c.yaml")
	_ = os.WriteFile(bad, []byte("http:\n  listen: 127.0.0.1:1\n  lisen: x\n"), 0o600)
	var out, errOut bytes.Buffer
	if code := dispatch(context.Background(), []string{"-config", bad}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut.String(), bad+":3:3: unknown field \"lisen\"") {
		t.Fatalf("stderr %q", errOut.String())
	}

	cfg, _ := testConfig(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg.HTTP.Listen = l.Addr().String()
	d := newDaemon(cfg, bustest.Logger(t))
	err = d.run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "http.listen "+cfg.HTTP.Listen) {
		t.Fatalf("want a clear taken-port error, got %v", err)
	}
}

func TestConfigCheckCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := dispatch(context.Background(), []string{"config", "check", "../../config.yaml"}, &out, &errOut); code != 0 {
		t.Fatalf("shipped config: exit %d: %s", code, errOut.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("router:\n  max_deliver: 0\n"), 0o600)
	errOut.Reset()
	if code := dispatch(context.Background(), []string{"config", "check", bad}, &out, &errOut); code != 1 {
		t.Fatalf("bad config: exit %d", code)
	}
	if !strings.Contains(errOut.String(), bad+":2:16: max_deliver must be at least 1") {
		t.Fatalf("stderr %q", errOut.String())
	}
}

// The daemon follows its rules file: a valid edit routes the next message by
// the new rules, an invalid one is rejected (counted, old rules kept), and a
// reload request (SIGHUP) re-reads the file.
func TestRulesHotReload(t *testing.T) {
	cfg, cfgPath := testConfig(t)
	rulesPath := filepath.Join(filepath.Dir(cfgPath), "rules.yaml")
	type result struct {
		ok      bool
		version string
	}
	results := make(chan result, 8)
	var reload chan struct{}
	d, _ := startDaemon(t, cfg, func(d *daemon) {
		reload = d.reloadCtl.reload
		d.rulesResult = func(ok bool, version string, _ error) { results <- result{ok, version} }
	})
	next := func() result {
		t.Helper()
		return testwait.Receive(t, 10*time.Second, "a rules reload", results)
	}
	replace := func(content string) {
		t.Helper()
		tmp := rulesPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, rulesPath); err != nil {
			t.Fatal(err)
		}
	}

	// The watcher runs once a forced reload (SIGHUP) of the unchanged file
	// reported; only then can an edit be noticed.
	reload <- struct{}{}
	if r := next(); !r.ok {
		t.Fatal("forced reload of the unchanged rules failed")
	}

	// An editor moves "lasku" from billing to logistics.
	replace(strings.Replace(testRules, "any: [lasku, invoice]", "any: [invoice]", 1) +
		"  - id: lasku-to-logistics\n    team: logistics\n    match: {text: {any: [lasku]}}\n")
	r := next()
	if !r.ok {
		t.Fatal("valid rules rejected")
	}
	postMessage(t, d.httpAddr, `{"id":"h1","text":"missä lasku"}`)
	got := teamItems(t, cfg, "logistics", 1)
	if len(got) != 1 || got[0].Route.RulesVersion != r.version || got[0].Route.Matched[0] != "lasku-to-logistics" {
		t.Fatalf("after reload logistics got %+v", got)
	}

	// A broken edit is rejected; the rules in force keep routing.
	replace("default_team: triage\nroutes:\n  - id: x\n    team: nobody\n")
	if r2 := next(); r2.ok {
		t.Fatal("invalid rules accepted")
	}
	// SIGHUP re-reads the (still broken) file.
	reload <- struct{}{}
	if r3 := next(); r3.ok {
		t.Fatal("forced reload of invalid rules accepted")
	}
	postMessage(t, d.httpAddr, `{"id":"h2","text":"lasku taas"}`)
	if got := teamItems(t, cfg, "logistics", 2); len(got) != 2 {
		t.Fatalf("after a rejected edit logistics has %d items, want 2", len(got))
	}
	_, metrics := httpGet(t, d.httpAddr, "/metrics")
	for _, want := range []string{
		`switchboard_rules_reloads_total{result="ok"} 2`,
		`switchboard_rules_reloads_total{result="error"} 2`,
		`switchboard_rules_info{version="` + r.version + `"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
