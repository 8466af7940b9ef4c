package rules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// guardRules has teams triage, billing, sales and logistics and n routes.
func guardRules(t *testing.T, teams []string, n int) string {
	t.Helper()
	src := "default_team: triage\nteams:\n"
	for _, tm := range teams {
		src += "  - name: " + tm + "\n"
	}
	src += "routes:\n"
	for i := range n {
		src += "  - id: r" + string(rune('a'+i)) + "\n    team: " + teams[i%len(teams)] + "\n    match: {text: {any: [w" + string(rune('a'+i)) + "x]}}\n"
	}
	return src
}

func TestGuardReload(t *testing.T) {
	all := []string{"triage", "billing", "sales", "logistics"}
	running := mustParseFile(t, guardRules(t, all, 6))
	tests := []struct {
		name      string
		candidate string
		inUse     func(string) bool
		want      []string
	}{
		{"same shape", guardRules(t, all, 6), nil, nil},
		{"a few routes fewer", guardRules(t, all, 3), nil, nil},
		{"less than half the routes", guardRules(t, all, 2), nil,
			[]string{"the new rules have 2 routes, fewer than half of the running 6; is the file cut short?"}},
		{"no routes", "default_team: triage\nteams: [{name: triage}, {name: billing}, {name: sales}, {name: logistics}]\nroutes:\n", nil,
			[]string{"the new rules have no routes (the running ones have 6): every item would go to triage; is the file cut short?"}},
		{"a removed team, nobody can tell", guardRules(t, all[:3], 6), nil,
			[]string{`the new rules remove team "logistics", which queued or retrying items may still reference`}},
		{"a removed team still referenced", guardRules(t, all[:3], 6), func(tm string) bool { return tm == "logistics" },
			[]string{`the new rules remove team "logistics", which queued or retrying items still reference`}},
		{"a removed team nothing references", guardRules(t, all[:3], 6), func(string) bool { return false }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GuardReload(running, mustParseFile(t, tt.candidate), tt.inUse)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func mustParseFile(t *testing.T, src string) *Rules {
	t.Helper()
	r, err := parse("g.yaml", []byte(src), parseOptions{noLint: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return r
}

// TestTruncatedReloadIsRefusedUnlessForced: the shipped rules cut after
// "routes:" are valid, and would send everything to the default team. The
// reload is refused and the old rules keep routing; forced, it goes in.
func TestTruncatedReloadIsRefusedUnlessForced(t *testing.T) {
	shipped, err := os.ReadFile("../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Without the model: the guard is about routes, and every reload
	// would train it (slow under the race detector).
	full := withoutClassifier(t, string(shipped))
	truncated := full[:strings.Index(full, "\nroutes:")+len("\nroutes:\n")]
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	live := loadLive(t, path)
	v1 := live.Current().Version()
	force := make(chan struct{})
	_, results, logs := watchingWith(t, path, live, func(o *WatchOptions) { o.Force = force })

	writeReplace(t, path, truncated)
	r := next(t, results)
	var refused *ReloadRefusedError
	if r.ok || !errors.As(r.err, &refused) || !strings.Contains(r.err.Error(), "no routes") || live.Current().Version() != v1 {
		t.Fatalf("truncated reload: %+v, live %s", r, live.Current().Version())
	}
	if d := live.Classify(env("Paketti ei ole vieläkään tullut")); d.Teams[0] != "logistics" {
		t.Fatalf("after the refusal the old rules must route: %+v", d)
	}
	if logs.FilterMessageSnippet("rules file refused").Len() != 1 {
		t.Fatalf("refusal not logged: %v", logs.All())
	}

	force <- struct{}{}
	r = next(t, results)
	if !r.ok || r.version == v1 || live.Current().Version() != r.version {
		t.Fatalf("forced reload: %+v", r)
	}
	if d := live.Classify(env("Paketti ei ole vieläkään tullut")); d.Teams[0] != "triage" {
		t.Fatalf("after the forced reload: %+v", d)
	}
	if logs.FilterMessage("rules reload forced despite the reload guard").Len() != 1 {
		t.Fatalf("forced reload not logged: %v", logs.All())
	}
}

// TestReloadRemovingReferencedTeam: the daemon's hook says which teams
// queued items reference; removing one is refused, removing another is
// not, and a hook that fails counts every removed team as referenced.
func TestReloadRemovingReferencedTeam(t *testing.T) {
	all := []string{"triage", "billing", "sales", "logistics"}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(guardRules(t, all, 4)), 0o600); err != nil {
		t.Fatal(err)
	}
	live := loadLive(t, path)
	inUse := make(chan []string, 1)
	_, results, _ := watchingWith(t, path, live, func(o *WatchOptions) {
		o.TeamsInUse = func(context.Context) ([]string, error) {
			teams := <-inUse
			if teams == nil {
				return nil, errors.New("stream unavailable")
			}
			return teams, nil
		}
	})
	without := func(drop string) string {
		var keep []string
		for _, tm := range all {
			if tm != drop {
				keep = append(keep, tm)
			}
		}
		return guardRules(t, keep, 4)
	}
	inUse <- []string{"sales"}
	writeReplace(t, path, without("sales"))
	if r := next(t, results); r.ok || !strings.Contains(r.err.Error(), `remove team "sales", which queued or retrying items still reference`) {
		t.Fatalf("removing a referenced team: %+v", r)
	}
	inUse <- nil
	writeReplace(t, path, without("billing"))
	if r := next(t, results); r.ok || !strings.Contains(r.err.Error(), `remove team "billing", which queued or retrying items may still reference`) {
		t.Fatalf("removing a team while the hook fails: %+v", r)
	}
	inUse <- []string{"sales"}
	writeReplace(t, path, without("logistics"))
	if r := next(t, results); !r.ok || live.Current().Version() != r.version {
		t.Fatalf("removing a team nothing references: %+v", r)
	}
}
