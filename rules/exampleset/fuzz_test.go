package exampleset

import (
	"strings"
	"testing"
)

// checkSet holds what Parse promises of every set it returns: each example
// has a text, a known team or noise, a channel and kind; ids are unique;
// every reply_to names an example, and following them ends.
func checkSet(t *testing.T, set *Set) {
	t.Helper()
	ids := map[string]int{}
	for i, ex := range set.Examples {
		if strings.TrimSpace(ex.Text) == "" || ex.Noise == (ex.Team != "") || ex.Channel == "" || ex.Kind == "" || ex.Line < 1 {
			t.Fatalf("example %d: %+v", i, ex)
		}
		if ex.ID != "" {
			if _, dup := ids[ex.ID]; dup {
				t.Fatalf("duplicate id %q", ex.ID)
			}
			ids[ex.ID] = i
		}
	}
	for i, ex := range set.Examples {
		steps := 0
		for cur := ex.ReplyTo; cur != ""; cur = set.Examples[ids[cur]].ReplyTo {
			if _, ok := ids[cur]; !ok {
				t.Fatalf("example %d answers missing %q", i, cur)
			}
			if steps++; steps > len(ids) {
				t.Fatalf("example %d: a reply cycle", i)
			}
		}
		if env := set.Envelope(i); env.Validate() != nil {
			t.Fatalf("example %d: envelope %v", i, env.Validate())
		}
	}
}

func FuzzParseYAML(f *testing.F) {
	fuzzParse(f, "ex.yaml",
		"examples:\n  - {team: billing, text: x}\n",
		"examples:\n  - {team: billing, text: x, id: a, reply_to: b}\n  - {noise: true, text: y, id: b}\n",
		"examples:\n  - {team: billing, text: x, id: a, reply_to: a}\n",
		"examples:\n  - team: biling\n    text: x\n    channel: web\n    kind: dm\n    lang: fi-FI\n",
		"examples: [",
	)
}

func FuzzParseTSV(f *testing.F) {
	fuzzParse(f, "ex.tsv",
		"team\ttext\nbilling\tlasku\n",
		"text\tteam\tid\treply_to\nx\tbilling\ta\tb\ny\t(noise)\tb\t\n",
		"team\ttext\tchannel\tkind\tlang\tsubject\tid\treply_to\nlogistics\tx\\ty\\n\\\\\tfacebook\treply\tfi\tRe\ta\ta\n",
		"# c\r\n\r\nteam\ttext\r\nbilling\tx\r\n",
		"team\tteam\n",
	)
}

// fuzzParse fuzzes Parse of a file named file, starting from seeds: an
// error must name the file, and a set parsed must pass checkSet.
func fuzzParse(f *testing.F, file string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		set, err := Parse(file, []byte(data), teams)
		if err != nil {
			if !strings.HasPrefix(err.Error(), file) {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		checkSet(t, set)
	})
}
