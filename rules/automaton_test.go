package rules

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

type hitList []string

func (h *hitList) hit(p int32, end int) { *h = append(*h, string(rune('A'+p))+":"+itoa(end)) }

func itoa(n int) string {
	return strings.TrimLeft(string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)}), "0")
}

// naiveHits lists every occurrence of every pattern, the slow way.
func naiveHits(patterns []string, hay string) []string {
	var out []string
	for end := 1; end <= len(hay); end++ {
		for p, pat := range patterns {
			if strings.HasSuffix(hay[:end], pat) {
				out = append(out, string(rune('A'+p))+":"+itoa(end))
			}
		}
	}
	return out
}

func TestAutomatonFindsEveryOccurrence(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "c", " ", "ä"}
	word := func(max int) string {
		var b strings.Builder
		for range 1 + rng.IntN(max) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 500 {
		var pats []string
		for len(pats) < 1+rng.IntN(8) {
			if p := word(4); !slices.Contains(pats, p) {
				pats = append(pats, p)
			}
		}
		a, err := buildAutomaton(pats)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			hay := word(30)
			var got hitList
			a.scan([]byte(hay), &got)
			want := naiveHits(pats, hay)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("patterns %q in %q:\n got %v\nwant %v", pats, hay, got, want)
			}
		}
	}
}

func TestAutomatonEmpty(t *testing.T) {
	a, err := buildAutomaton(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got hitList
	a.scan([]byte("anything"), &got)
	if len(got) != 0 || a.states() != 1 {
		t.Fatalf("hits %v states %d", got, a.states())
	}
}
