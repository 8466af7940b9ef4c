package rules

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/benchtext"
	"github.com/switchboard/switchboard/internal/message"
)

// Benchmarks: the compiled rules against a naive baseline (one regexp per
// rule, tried in order until one matches, as helpdesk triggers do), with 10
// to 10,000 keyword rules on a 300-byte and a 3 KB message. Each message
// contains a keyword of the last rule only, so the baseline tries every rule
// (as it does for every message that ends up with the default team).
//
//	go test ./rules/ -run '^$' -bench . -benchmem
//
// Results and the machine: docs/BENCHMARKS.md.

// syntheticWords returns n distinct made-up words that occur in no text.
func syntheticWords(n int) []string {
	rng := rand.New(rand.NewPCG(7, 8))
	syl := []string{"ka", "lo", "su", "te", "mi", "pe", "ri", "no", "va", "hu", "jä", "kö", "ny", "sa", "to", "rä", "vi", "ly"}
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var b strings.Builder
		for range 3 + rng.IntN(2) {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		w := b.String() + "x" // never a real word
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

type benchSet struct {
	rules    *Rules
	baseline []*regexp.Regexp
	last     string // a keyword of the last rule
}

func benchRules(b *testing.B, n int) *benchSet {
	b.Helper()
	words := syntheticWords(2 * n)
	var src strings.Builder
	src.WriteString("default_team: triage\nteams:\n  - name: triage\n  - name: billing\n  - name: logistics\n  - name: sales\nroutes:\n")
	set := &benchSet{}
	teams := []string{"billing", "logistics", "sales"}
	for i := range n {
		a, c := words[2*i], words[2*i+1]
		fmt.Fprintf(&src, "  - id: r%d\n    team: %s\n    match: {text: {any: [%s, %s]}}\n", i, teams[i%3], a, c)
		set.baseline = append(set.baseline, regexp.MustCompile(`(?i)\b(?:`+a+`|`+c+`)\b`))
		set.last = c
	}
	r, err := parse("bench.yaml", []byte(src.String()), parseOptions{noLint: true})
	if err != nil {
		b.Fatal(err)
	}
	set.rules = r
	return set
}

func BenchmarkClassify(b *testing.B) {
	texts := []struct {
		name, text string
	}{{"300B", benchtext.Text300}, {"3KB", benchtext.Text3K()}}
	for _, n := range []int{10, 100, 1000, 10000} {
		set := benchRules(b, n)
		for _, tx := range texts {
			// The keyword sits mid-text, as in a real message.
			text := tx.text[:len(tx.text)/2] + " " + set.last + " " + tx.text[len(tx.text)/2:]
			e := &message.Envelope{Channel: "email", Kind: message.KindEmail, Text: text}
			b.Run(fmt.Sprintf("rules=%d/text=%s/compiled", n, tx.name), func(b *testing.B) {
				want := fmt.Sprintf("r%d", n-1)
				if d := set.rules.Classify(e); len(d.Matched) != 1 || d.Matched[0] != want {
					b.Fatalf("compiled rules matched %v, want %s", d.Matched, want)
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					set.rules.Classify(e)
				}
				ac := set.rules.ac
				b.ReportMetric(float64(4*len(ac.delta)+12*ac.states())/(1<<20), "automaton-MiB")
			})
			b.Run(fmt.Sprintf("rules=%d/text=%s/baseline", n, tx.name), func(b *testing.B) {
				if got := naiveClassify(set.baseline, text); got != n-1 {
					b.Fatalf("baseline matched rule %d, want %d", got, n-1)
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					naiveClassify(set.baseline, text)
				}
			})
		}
	}
}

// naiveClassify is the baseline: the first rule whose regexp matches.
func naiveClassify(res []*regexp.Regexp, text string) int {
	for i, re := range res {
		if re.MatchString(text) {
			return i
		}
	}
	return -1
}

// BenchmarkClassifyParallel is the router's situation: several workers
// classifying at once through one Rules.
func BenchmarkClassifyParallel(b *testing.B) {
	set := benchRules(b, 1000)
	e := &message.Envelope{Channel: "email", Text: benchtext.Text300 + " " + set.last}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			set.rules.Classify(e)
		}
	})
}

// BenchmarkParse is the cost of a reload.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{100, 1000} {
		words := syntheticWords(2 * n)
		var src strings.Builder
		src.WriteString("default_team: triage\nteams:\n  - name: triage\nroutes:\n")
		for i := range n {
			fmt.Fprintf(&src, "  - id: r%d\n    team: triage\n    match: {text: {any: [%s, %s]}}\n", i, words[2*i], words[2*i+1])
		}
		data := []byte(src.String())
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := parse("bench.yaml", data, parseOptions{noLint: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkShippedRules classifies with the example rules.yaml.
func BenchmarkShippedRules(b *testing.B) {
	r, err := Load("../rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	e := &message.Envelope{Channel: "email", Text: benchtext.Text300}
	b.ReportAllocs()
	for b.Loop() {
		r.Classify(e)
	}
}
