package classify

import (
	"bufio"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// example is one labelled message of testdata.
type example struct {
	label string
	kind  string // language (corpus.tsv) or variant kind (variants.tsv)
	text  string
}

// readExamples reads a testdata TSV: label, kind, text; # starts a comment.
func readExamples(t testing.TB, name string) []example {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []example
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("%s: bad line %q", name, line)
		}
		out = append(out, example{parts[0], parts[1], parts[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// corpus is the labelled test corpus, vectorized.
type corpus struct {
	labels   []string // sorted
	examples []example
	docs     []Doc
}

func loadCorpus(t testing.TB) *corpus {
	t.Helper()
	return newCorpus(readExamples(t, "corpus.tsv"))
}

func newCorpus(ex []example) *corpus {
	c := &corpus{examples: ex}
	for _, e := range ex {
		if !slices.Contains(c.labels, e.label) {
			c.labels = append(c.labels, e.label)
		}
	}
	slices.Sort(c.labels)
	texts := make([]string, len(ex))
	for i, e := range ex {
		texts[i] = e.text
	}
	for i, f := range vectorize(texts) {
		c.docs = append(c.docs, Doc{Features: f, Label: c.label(ex[i].label)})
	}
	return c
}

func (c *corpus) label(name string) int { return slices.Index(c.labels, name) }

// Perturbations that make a generated example out of a corpus message.
var (
	greetings = []string{"Hei,", "Moi!", "Hei hei", "Hello,", "Hi!", "Hej!", "Moikka", "Terve"}
	signoffs  = []string{"Terveisin Matti", "Kiitos", "Kiitti etukäteen", "Thanks, Anna", "Best regards, John",
		"Mvh Erik", "Tack på förhand", "t. Liisa", "Ystävällisin terveisin, Pekka Virtanen"}
	fillers = []string{"Olen yrittänyt soittaa monta kertaa.", "Tämä on jo kolmas viesti.",
		"I have tried to call you several times.", "Jag har försökt ringa flera gånger.",
		"Vastatkaa pian.", "Please answer soon.", "Asiakasnumeroni on 552310."}
)

// perturb returns n examples made from the corpus, deterministically from
// seed: diacritics dropped, typos (a letter deleted, doubled, swapped or
// replaced), words dropped, a second message of the same team appended,
// greetings, sign-offs and neutral filler sentences added.
func perturb(base []example, n int, seed uint64) []example {
	rng := rand.New(rand.NewPCG(seed, 99))
	byLabel := map[string][]string{}
	for _, e := range base {
		byLabel[e.label] = append(byLabel[e.label], e.text)
	}
	out := make([]example, 0, n)
	for len(out) < n {
		e := base[rng.IntN(len(base))]
		text := e.text
		if rng.IntN(4) == 0 {
			same := byLabel[e.label]
			text += " " + same[rng.IntN(len(same))]
		}
		words := strings.Fields(text)
		var b strings.Builder
		if rng.IntN(4) == 0 {
			b.WriteString(greetings[rng.IntN(len(greetings))])
			b.WriteByte(' ')
		}
		for _, w := range words {
			switch r := rng.IntN(100); {
			case r < 5:
				continue // dropped
			case r < 13:
				w = typo(rng, w)
			}
			b.WriteString(w)
			b.WriteByte(' ')
		}
		if rng.IntN(5) == 0 {
			b.WriteString(fillers[rng.IntN(len(fillers))])
			b.WriteByte(' ')
		}
		if rng.IntN(4) == 0 {
			b.WriteString(signoffs[rng.IntN(len(signoffs))])
		}
		text = strings.TrimSpace(b.String())
		if rng.IntN(3) == 0 {
			text = stripString(text)
		}
		out = append(out, example{e.label, e.kind, text})
	}
	return out
}

// typo deletes, doubles, swaps or replaces one letter of w.
func typo(rng *rand.Rand, w string) string {
	r := []rune(w)
	if len(r) < 3 {
		return w
	}
	i := 1 + rng.IntN(len(r)-2)
	switch rng.IntN(4) {
	case 0:
		r = slices.Delete(r, i, i+1)
	case 1:
		r = slices.Insert(r, i, r[i])
	case 2:
		r[i], r[i+1] = r[i+1], r[i]
	default:
		r[i] = rune("aeiostnlkr"[rng.IntN(10)])
	}
	return string(r)
}

// stripString writes ä, ö and å as a, o and a.
func stripString(s string) string {
	return strings.NewReplacer("ä", "a", "ö", "o", "å", "a", "Ä", "A", "Ö", "O", "Å", "A").Replace(s)
}
