package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/yamlfile/yamlfiletest"
)

// TestBombsAreRefusedCheaply: files that took the daemon to 3.4 and 4.9 GB
// are refused with a positioned error, allocating almost nothing.
// BenchmarkParseBombs has the time.
func TestBombsAreRefusedCheaply(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"alias bomb", yamlfiletest.AliasBomb(head), `r.yaml:7:5: "&a0" is an anchor: YAML anchors (&name) and aliases (*name) are not accepted here; quote a word that starts with * ("*lasku"), and share words through a vocabulary ($name)`},
		{"flow bomb", yamlfiletest.FlowBomb(head), "r.yaml:6:"},
		{"too big", head + "# " + strings.Repeat("x", MaxFileBytes) + "\n", "r.yaml: the file is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			data := []byte(tt.data)
			n := yamlfiletest.Allocated(func() { _, err = Parse("r.yaml", data) })
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want prefix %q", err, tt.want)
			}
			if n > 1<<20 {
				t.Fatalf("refusing it allocated %d bytes, want under 1 MiB", n)
			}
		})
	}
}

func BenchmarkParseBombs(b *testing.B) {
	for name, data := range map[string][]byte{"alias": []byte(yamlfiletest.AliasBomb(head)), "flow": []byte(yamlfiletest.FlowBomb(head))} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("r.yaml", data); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func TestCompileCaps(t *testing.T) {
	manyRegexes := head + "routes:\n  - id: a\n    match: {text: {regex: ["
	for i := range maxRegexes + 1 {
		manyRegexes += fmt.Sprintf("'x%d', ", i)
	}
	manyRegexes += "]}}\n"
	manyRoutes := head + "routes: ["
	for i := range maxRoutes + 1 {
		manyRoutes += fmt.Sprintf("{id: r%d, team: billing, continue: true}, ", i)
	}
	manyRoutes += "]\n"
	words := syntheticWords(1000)
	bigVocab := head + "vocabularies: {v: [" + strings.Join(words, ", ") + "]}\nroutes:\n"
	for i := range maxEntries/1000 + 1 {
		bigVocab += fmt.Sprintf("  - {id: r%d, match: {text: {none: [$v]}}, team: billing, continue: true}\n", i)
	}
	tests := []struct {
		name, data, want string
	}{
		{"long regex", head + "routes:\n  - id: a\n    match: {text: {regex: ['" + strings.Repeat("a", maxRegexBytes+1) + "']}}\n",
			"r.yaml:8:28: regular expression of 1001 bytes; at most 1000"},
		{"many regexes", manyRegexes, "more than 1000 regular expressions in one rules file"},
		{"many routes", manyRoutes, "more than 10000 routes in one rules file"},
		{"many entries", bigVocab, "more than 1000000 condition entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %.300v, want %q", err, tt.want)
			}
			if n := strings.Count(err.Error(), "\n") + 1; n > 101 {
				t.Fatalf("%d problems reported; at most 100 and a count", n)
			}
		})
	}
}

// TestBombReloadKeepsRulesRunning: pushed as a hot reload, a bomb is
// rejected and the rules in use keep routing.
func TestBombReloadKeepsRulesRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(rulesText("billing")), 0o600); err != nil {
		t.Fatal(err)
	}
	live := loadLive(t, path)
	v1 := live.Current().Version()
	_, results, _ := watching(t, path, live)
	for _, bomb := range []string{yamlfiletest.AliasBomb(head), yamlfiletest.FlowBomb(head)} {
		writeReplace(t, path, bomb)
		r := next(t, results)
		if r.ok || r.err == nil || !strings.Contains(r.err.Error(), path+":") {
			t.Fatalf("bomb reload: %+v", r)
		}
		if d := live.Classify(env("lasku")); d.Teams[0] != "billing" || d.Version != v1 {
			t.Fatalf("after the bomb: %+v", d)
		}
	}
}
