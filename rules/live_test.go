package rules

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testwait"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func rulesText(team string) string {
	return head + fmt.Sprintf("routes:\n  - id: r\n    team: %s\n    match: {text: {any: [lasku]}}\n", team)
}

type reloadResult struct {
	ok      bool
	version string
	err     error
}

// watching starts Watch on path with live, and returns the reload channel,
// the results and the logs. Watch has started once the first forced reload
// reported.
func watching(t *testing.T, path string, live *Live) (chan<- struct{}, <-chan reloadResult, *observer.ObservedLogs) {
	t.Helper()
	return watchingWith(t, path, live, func(*WatchOptions) {})
}

// watchingWith is watching with more options set by opt.
func watchingWith(t *testing.T, path string, live *Live, opt func(*WatchOptions)) (chan<- struct{}, <-chan reloadResult, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	reload := make(chan struct{})
	results := make(chan reloadResult, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	o := WatchOptions{Reload: reload, Log: zap.New(core), OnResult: func(ok bool, version string, err error) {
		results <- reloadResult{ok, version, err}
	}, Check: func(r *Rules) error {
		for _, tm := range r.Teams() {
			if tm.Name == "vetoed" {
				return errors.New("team vetoed: the check refused it")
			}
		}
		return nil
	}, TeamsInUse: func(context.Context) ([]string, error) { return nil, nil }}
	opt(&o)
	go func() { done <- Watch(ctx, path, live, o) }()
	t.Cleanup(func() {
		cancel()
		if err := testwait.Receive(t, 5*time.Second, "Watch to return after its context ended", done); err != nil {
			t.Errorf("Watch returned %v at shutdown, want nil", err)
		}
	})
	testwait.Send(t, 5*time.Second, "Watch to take a reload request", reload, struct{}{})
	if r := next(t, results); !r.ok {
		t.Fatalf("first reload: %+v", r)
	}
	return reload, results, logs
}

func next(t *testing.T, results <-chan reloadResult) reloadResult {
	t.Helper()
	return testwait.Receive(t, 5*time.Second, "a reload result", results)
}

// writeReplace writes like an editor: a new file renamed over the old one.
func writeReplace(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func loadLive(t *testing.T, path string) *Live {
	t.Helper()
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return NewLive(r)
}

func TestWatchReloadsValidAndKeepsRunningOnInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(rulesText("billing")), 0o600); err != nil {
		t.Fatal(err)
	}
	live := loadLive(t, path)
	v1 := live.Current().Version()
	reload, results, logs := watching(t, path, live)

	// An editor replaces the file.
	writeReplace(t, path, rulesText("sales"))
	r := next(t, results)
	if !r.ok || r.version == v1 || live.Current().Version() != r.version {
		t.Fatalf("after a valid edit: %+v, live %s", r, live.Current().Version())
	}
	if d := live.Classify(env("lasku")); d.Teams[0] != "sales" || d.Version != r.version {
		t.Fatalf("live decision %+v", d)
	}
	v2 := r.version

	// An invalid edit is rejected and the previous rules keep running.
	if err := os.WriteFile(path, []byte(head+"routes:\n  - id: r\n    team: nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = next(t, results)
	if r.ok || r.err == nil || live.Current().Version() != v2 {
		t.Fatalf("after an invalid edit: %+v, live %s", r, live.Current().Version())
	}
	rejected := logs.FilterMessage("rules file rejected; the rules in use keep running").All()
	if len(rejected) != 1 {
		t.Fatalf("rejection not logged: %v", logs.All())
	}
	problems := fmt.Sprint(rejected[0].ContextMap()["problems"])
	if !strings.Contains(problems, path+`:8:11: unknown team "nobody"`) {
		t.Fatalf("problems logged: %s", problems)
	}

	// SIGHUP reloads even when nothing changed since (still invalid).
	reload <- struct{}{}
	if r = next(t, results); r.ok {
		t.Fatalf("forced reload of an invalid file: %+v", r)
	}

	// Fixing the file swaps it in.
	writeReplace(t, path, rulesText("billing"))
	if r = next(t, results); !r.ok || r.version != v1 || live.Current().Version() != v1 {
		t.Fatalf("after the fix: %+v", r)
	}
	if n := logs.FilterMessage("rules reloaded").Len(); n != 2 {
		t.Fatalf("%d reloads logged, want 2", n)
	}

	// Valid rules the Check refuses are rejected too.
	writeReplace(t, path, strings.Replace(rulesText("vetoed"), "  - name: sales\n", "  - name: sales\n  - name: vetoed\n", 1))
	if r = next(t, results); r.ok || r.err == nil || !strings.Contains(r.err.Error(), "the check refused it") || live.Current().Version() != v1 {
		t.Fatalf("after a vetoed edit: %+v, live %s", r, live.Current().Version())
	}
}

func TestWatchFollowsKubernetesSymlinkSwap(t *testing.T) {
	// The kubelet's layout: rules.yaml -> ..data/rules.yaml, ..data -> ..<ts>/.
	dir := t.TempDir()
	mkVersion := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "rules.yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mkVersion("..2026_01", rulesText("billing"))
	if err := os.Symlink("..2026_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rules.yaml")
	if err := os.Symlink(filepath.Join("..data", "rules.yaml"), path); err != nil {
		t.Fatal(err)
	}
	live := loadLive(t, path)
	_, results, _ := watching(t, path, live)

	mkVersion("..2026_02", rulesText("sales"))
	if err := os.Symlink("..2026_02", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2026_01")); err != nil {
		t.Fatal(err)
	}
	r := next(t, results)
	if !r.ok || live.Classify(env("lasku")).Teams[0] != "sales" {
		t.Fatalf("after the ConfigMap swap: %+v", r)
	}
}

func TestWatchFailsWithoutDirectory(t *testing.T) {
	live := NewLive(mustParse(t, "routes: []\n"))
	err := Watch(context.Background(), filepath.Join(t.TempDir(), "missing", "rules.yaml"), live, WatchOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err %v", err)
	}
}

func TestLiveSwapIsAtomicUnderLoad(t *testing.T) {
	a, b := mustParse(t, rulesText("billing")[len(head):]), mustParse(t, rulesText("sales")[len(head):])
	live := NewLive(a)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	bad := make(chan string, 1)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d := live.Classify(env("lasku"))
				// Team and version always come from the same rules.
				if (d.Teams[0] == "billing") != (d.Version == a.Version()) {
					select {
					case bad <- fmt.Sprintf("%+v", d):
					default:
					}
					return
				}
			}
		}()
	}
	for i := range 200 {
		if i%2 == 0 {
			live.Swap(b)
		} else {
			live.Swap(a)
		}
	}
	live.Swap(nil)
	close(stop)
	wg.Wait()
	select {
	case d := <-bad:
		t.Fatalf("mixed decision %s", d)
	default:
	}
	if live.Current() == nil {
		t.Fatal("Swap(nil) cleared the rules")
	}
}
