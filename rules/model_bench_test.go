package rules

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/benchtext"
	"github.com/switchboard/switchboard/internal/cputime"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules/exampleset"
)

// Benchmarks of the model in the rules (docs/BENCHMARKS.md):
//
//	go test ./rules/ -run '^$' -bench 'Model|TrainModel' -benchmem -count 5
//
// BenchmarkModel classifies a 300-byte and a 3 KB message with the shipped
// rules.yaml and with the same file without its classifier: section, in
// the same run. BenchmarkTrainModel trains the way a load does (folding,
// stemming and featurizing every example, then training) on 1,000 and
// 10,000 examples made from examples.yaml.

// withoutClassifier returns the shipped rules' text without its
// classifier: section (it comes right before teams:).
func withoutClassifier(t testing.TB, text string) string {
	t.Helper()
	start := strings.Index(text, "\nclassifier:\n")
	end := strings.Index(text, "\nteams:\n")
	if start < 0 || end < start {
		t.Fatal("the shipped rules have no classifier: section before teams:")
	}
	return text[:start] + text[end:]
}

// shippedWithout loads the shipped rules, and the same file without its
// classifier: section (rules alone).
func shippedWithout(b *testing.B) (withModel, rulesAlone *Rules) {
	b.Helper()
	data, err := os.ReadFile("../rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	withModel, err = Parse("../rules.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	rulesAlone, err = Parse("../rules.yaml", []byte(withoutClassifier(b, string(data))))
	if err != nil {
		b.Fatal(err)
	}
	if !withModel.HasModel() || rulesAlone.HasModel() {
		b.Fatal("want one rule set with a model and one without")
	}
	return withModel, rulesAlone
}

func BenchmarkModel(b *testing.B) {
	withModel, rulesAlone := shippedWithout(b)
	for _, msg := range []struct{ name, text string }{{"300B", benchtext.Text300}, {"3KB", benchtext.Text3K()}} {
		for _, rs := range []struct {
			name string
			r    *Rules
		}{{"rules", rulesAlone}, {"rules+model", withModel}} {
			b.Run(rs.name+"/"+msg.name, func(b *testing.B) {
				e := &message.Envelope{Channel: "email", Kind: message.KindEmail, Text: msg.text}
				rs.r.Classify(e)
				b.SetBytes(int64(len(msg.text)))
				b.ReportAllocs()
				var cpu cputime.Timer
				cpu.Start()
				for b.Loop() {
					rs.r.Classify(e)
				}
				cpu.Stop(b)
			})
		}
	}
}

// generatedExamples makes n examples from examples.yaml: each copy of an
// example drops one word, and every other copy is typed without ä and ö
// and starts with a greeting, so that copies are not identical.
func generatedExamples(b *testing.B, r *Rules, n int) []exampleset.Example {
	b.Helper()
	set, err := exampleset.Load("../examples.yaml", teamNames(r.Teams()))
	if err != nil {
		b.Fatal(err)
	}
	var base []exampleset.Example
	for _, ex := range set.Examples {
		if ex.ReplyTo == "" {
			base = append(base, ex)
		}
	}
	greetings := []string{"Hei,", "Moi!", "Hello,", "Hej!", "Terve", "Hi!"}
	out := make([]exampleset.Example, 0, n)
	for k := 0; len(out) < n; k++ {
		for i := 0; i < len(base) && len(out) < n; i++ {
			ex := base[i]
			words := strings.Fields(ex.Text)
			if len(words) > 3 {
				j := (k*7 + i) % len(words)
				words = append(words[:j:j], words[j+1:]...)
			}
			ex.Text = strings.Join(words, " ")
			if k%2 == 1 {
				ex.Text = greetings[(k+i)%len(greetings)] + " " + strings.NewReplacer("ä", "a", "ö", "o").Replace(ex.Text)
			}
			if k > 0 {
				ex.Text += fmt.Sprintf(" (%d)", k)
			}
			out = append(out, ex)
		}
	}
	return out
}

func BenchmarkTrainModel(b *testing.B) {
	r, err := Load("../rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("examples=%d", n), func(b *testing.B) {
			exs := generatedExamples(b, r, n)
			b.ReportAllocs()
			var m *TrainedModel
			var cpu cputime.Timer
			cpu.Start()
			for b.Loop() {
				if m, err = r.TrainModel(exs); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Stop(b)
			st := m.Stats()
			b.ReportMetric(float64(st.Epochs), "epochs")
			b.ReportMetric(float64(st.SizeBytes)/(1<<20), "model-MiB")
		})
	}
}
