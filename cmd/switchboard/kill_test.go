package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/redistest"
	"github.com/switchboard/switchboard/internal/testwait"
)

// killRules routes "invoice" to billing (NATS subject and a Redis Stream)
// and the rest to triage (NATS). %s is the Redis stream key.
const killRules = `default_team: triage
teams:
  - name: triage
  - name: billing
    targets:
      - type: nats
      - type: redis
        stream: %s
routes:
  - id: billing
    match:
      text:
        any: [invoice]
    team: billing
`

// daemonProc is the switchboard binary running as a subprocess.
type daemonProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	done    chan struct{}
	httpURL string
}

// startProc starts the binary on cfgPath (its output to logFile) and waits
// until it is ready; the test fails when the daemon exits first, and the
// log's tail is shown when the test fails.
func startProc(t *testing.T, bin, cfgPath, httpAddr string, logFile *os.File) *daemonProc {
	t.Helper()
	p := launchProc(t, bin, cfgPath, httpAddr, logFile)
	if p == nil {
		t.Fatalf("daemon exited before ready:\n%s", readTail(logFile.Name()))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log:\n%s", readTail(logFile.Name()))
		}
	})
	return p
}

// launchProc starts the binary on cfgPath (its output to logFile), kills it
// when the test ends and waits until /readyz on httpAddr answers 200; nil
// when the daemon exited first.
func launchProc(t *testing.T, bin, cfgPath, httpAddr string, logFile *os.File) *daemonProc {
	t.Helper()
	cmd := exec.Command(bin, "run", "-config", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the daemon: %v", err)
	}
	p := &daemonProc{t: t, cmd: cmd, done: make(chan struct{}), httpURL: "http://" + httpAddr}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	exited := false
	client := &http.Client{Timeout: 5 * time.Second}
	testwait.NoError(t, 60*time.Second, "the daemon to be ready", func() error {
		select {
		case <-p.done:
			exited = true
			return nil
		default:
		}
		resp, err := client.Get(p.httpURL + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /readyz: %s", resp.Status)
		}
		return nil
	})
	if exited {
		return nil
	}
	return p
}

// kill sends SIGKILL to the daemon process (only it) and waits for it.
func (p *daemonProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	testwait.Closed(p.t, 20*time.Second, fmt.Sprintf("daemon pid %d to exit after SIGKILL", p.cmd.Process.Pid), p.done)
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func readTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// post sends one message to the intake; it reports whether it was stored
// (202, or 200: stored before, a duplicate).
func post(client *http.Client, base, id, text string) bool {
	body := fmt.Sprintf(`{"id":%q,"text":%q}`, id, text)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t0ken")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK
}

// natsQueueIDs returns the envelope ids stored on subject in the team stream.
func natsQueueIDs(ctx context.Context, t *testing.T, js jetstream.JetStream, stream, subject string) []string {
	t.Helper()
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for pending := info.NumPending; pending > 0; {
		batch, err := cons.Fetch(int(min(pending, 500)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			var r message.Routed
			if err := json.Unmarshal(m.Data(), &r); err != nil {
				t.Fatalf("team item is not a routed item: %v", err)
			}
			ids = append(ids, r.ID)
			meta, _ := m.Metadata()
			pending = meta.NumPending
		}
		if got == 0 {
			break
		}
	}
	return ids
}

func exactlyOnce(t *testing.T, where string, got []string, want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s: %s stored %d times", where, id, n)
		}
		if !want[id] {
			t.Errorf("%s: unexpected item %s", where, id)
		}
	}
	for id := range want {
		if seen[id] == 0 {
			t.Errorf("%s: %s missing", where, id)
		}
	}
}

// The daemon is killed with SIGKILL while a batch is being posted and
// routed, then started again; the clients retry what was not accepted.
// Afterwards every message is in every queue it belongs to exactly once:
// the NATS team stream and the Redis Stream.
func TestSIGKILLMidBatchEveryMessageExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it as a subprocess")
	}
	rd := redistest.New(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchboard")
	buildCtx, cancelBuild := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelBuild()
	// Build with -race when the tests run with it, so the build reuses the
	// packages the test binary was compiled from.
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	build := exec.CommandContext(buildCtx, "go", append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	stream := rd.Key("billing")
	writeFile(t, dir, "rules.yaml", fmt.Sprintf(killRules, stream))
	httpAddr, natsAddr := freeAddr(t), freeAddr(t)
	cfgYAML := fmt.Sprintf(`data_dir: data
log: {format: json, level: warn}
http: {listen: %q}
nats: {embedded: {listen: %q}}
router: {workers: 4, ack_wait: 2s}
delivery:
  redis: {url: %q}
  retry_min: 50ms
  retry_max: 500ms
shutdown_timeout: 10s
connectors:
  intake: {enabled: true, token: t0ken}
`, httpAddr, natsAddr, rd.URL)
	cfg, cfgPath := loadTestConfig(t, dir, cfgYAML)
	logFile, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	const n = 400
	billing, triage := map[string]bool{}, map[string]bool{}
	text := func(i int) string {
		if i%2 == 0 {
			return fmt.Sprintf("invoice number %d is wrong", i)
		}
		return fmt.Sprintf("hello %d", i)
	}
	for i := range n {
		id := message.MakeID("web", fmt.Sprintf("k%d", i))
		if i%2 == 0 {
			billing[id] = true
		} else {
			triage[id] = true
		}
	}

	p := startProc(t, bin, cfgPath, httpAddr, logFile)
	client := &http.Client{Timeout: 5 * time.Second}
	var (
		mu       sync.Mutex
		accepted = map[int]bool{}
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if post(client, p.httpURL, fmt.Sprintf("k%d", i), text(i)) {
					mu.Lock()
					accepted[i] = true
					mu.Unlock()
				}
			}
		})
	}
	// Kill as soon as the Redis queue shows routing under way, while the
	// batch is still being posted.
	go func() {
		for i := range n {
			next <- i
		}
		close(next)
	}()
	var atKill int64
	testwait.Until(t, 30*time.Second, "the Redis queue to reach 20 items", func() bool {
		select {
		case <-p.done:
			t.Fatal("daemon died on its own")
		default:
		}
		atKill, _ = rd.Client.XLen(context.Background(), stream).Result()
		return atKill >= 20
	})
	p.kill()
	wg.Wait()
	mu.Lock()
	t.Logf("killed with SIGKILL at XLEN %d; %d of %d posts were accepted before", atKill, len(accepted), n)
	mu.Unlock()

	// After SIGKILL, what the router had fetched but not acked is redelivered
	// after router.ack_wait (2s here).
	// Restart; clients retry everything not accepted, plus a few that were
	// (an ack lost in the crash looks like that to a client).
	p = startProc(t, bin, cfgPath, httpAddr, logFile)
	for i := range n {
		if !accepted[i] || i%50 == 0 {
			if !post(client, p.httpURL, fmt.Sprintf("k%d", i), text(i)) {
				t.Fatalf("post k%d after restart failed", i)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc, js := dialBus(ctx, t, cfg, "kill-test")
	defer nc.Close()
	subjects := bus.NewSubjects(cfg.Streams)
	done := func() bool {
		cons, err := js.Consumer(ctx, subjects.IngestStream, cfg.Router.Consumer)
		if err != nil {
			return false
		}
		ci, err := cons.Info(ctx)
		return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0
	}
	testwait.Until(t, 45*time.Second, "the router to finish after the restart", done)

	exactlyOnce(t, "NATS billing", natsQueueIDs(ctx, t, js, subjects.TeamStream, subjects.Team("billing")), billing)
	exactlyOnce(t, "NATS triage", natsQueueIDs(ctx, t, js, subjects.TeamStream, subjects.Team("triage")), triage)
	entries, err := rd.Client.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var redisIDs []string
	for _, e := range entries {
		redisIDs = append(redisIDs, fmt.Sprint(e.Values["id"]))
	}
	exactlyOnce(t, "Redis billing", redisIDs, billing)
	dead, _ := js.Stream(ctx, subjects.DeadStream)
	if info, err := dead.Info(ctx); err != nil || info.State.Msgs != 0 {
		t.Errorf("dead letters after the crash: %v (%v)", info.State.Msgs, err)
	}

	// A graceful stop still works after all that.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	testwait.Closed(t, 20*time.Second, "the daemon to stop after SIGTERM", p.done)
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("daemon exit code %d after SIGTERM", code)
	}
}
