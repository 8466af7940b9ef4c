package rules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testwait"
)

// correctionSource is the daemon's corrections stream as Watch sees it.
type correctionSource struct {
	mu   sync.Mutex
	list []Correction
	err  error
}

func (c *correctionSource) add(cs ...Correction) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, cs...)
}

func (c *correctionSource) read(context.Context) ([]Correction, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Correction(nil), c.list...), c.err
}

// TestReloadLearnsCorrections: a correction joins the training data at the
// next reload when the rules say learn_from_corrections: true, and not
// when they do not; the rules file itself is unchanged.
func TestReloadLearnsCorrections(t *testing.T) {
	text := "Zyxwv kvartsi-imuri kiinnostaa kovasti"
	for _, learn := range []bool{true, false} {
		t.Run(map[bool]string{true: "learn", false: "do not learn"}[learn], func(t *testing.T) {
			body := "classifier: {min_confidence: 0.3, learn_from_corrections: false}\nroutes: []\n"
			if learn {
				body = strings.Replace(body, "false", "true", 1)
			}
			r, err := loadModelRules(t, body, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			live := NewLive(r)
			src := &correctionSource{}
			reload, results, logs := watchingWith(t, r.File(), live, func(o *WatchOptions) { o.Corrections = src.read })
			v1 := live.Current().ModelVersion()

			src.add(Correction{ID: "web:42", Team: "sales", Text: text, At: time.Now()})
			testwait.Send(t, 5*time.Second, "a reload request", reload, struct{}{})
			res := next(t, results)
			cur := live.Current()
			if !res.ok || cur.Version() != r.Version() {
				t.Fatalf("reload %+v", res)
			}
			got := cur.ModelStats().Corrections
			top := cur.Classify(env(text)).Model[0].Team
			if learn {
				if got != 1 || cur.ModelVersion() == v1 || top != "sales" {
					t.Errorf("after the reload: %d corrections, model %s (was %s), top team %s", got, cur.ModelVersion(), v1, top)
				}
				if logs.FilterMessage("rules reloaded").Len() != 1 {
					t.Errorf("retraining not logged: %v", logs.All())
				}
			} else if got != 0 || cur != r || top == "sales" {
				t.Errorf("without learn_from_corrections: %d corrections, rules replaced %v, top team %s", got, cur != r, top)
			}

			// Nothing new: the next reload changes nothing.
			before := live.Current()
			testwait.Send(t, 5*time.Second, "a reload request", reload, struct{}{})
			if res := next(t, results); !res.ok || live.Current() != before {
				t.Errorf("a reload with nothing new replaced the rules: %+v", res)
			}

			// Corrections that cannot be read: the rules are unchanged,
			// so the model in use (with what it learned) is kept.
			src.mu.Lock()
			src.err = context.DeadlineExceeded
			src.mu.Unlock()
			testwait.Send(t, 5*time.Second, "a reload request", reload, struct{}{})
			if res := next(t, results); !res.ok || live.Current() != before {
				t.Errorf("reload without corrections: %+v, rules replaced %v", res, live.Current() != before)
			}
			if logs.FilterMessageSnippet("cannot read the operators' corrections").Len() == 0 {
				t.Errorf("the failure is not logged")
			}
		})
	}
}

// TestExamplesEditRetrains: saving the examples file trains the model
// again, without a signal; a broken examples file is rejected and the
// model in use keeps running.
func TestExamplesEditRetrains(t *testing.T) {
	r := modelRules(t, "classifier: {min_confidence: 0.3}\nroutes: []\n")
	live := NewLive(r)
	_, results, logs := watching(t, r.File(), live)
	examples := filepath.Join(filepath.Dir(r.File()), "examples.yaml")

	writeReplace(t, examples, modelExamples+"  - {team: sales, text: \"Onko tarjous voimassa\"}\n")
	res := next(t, results)
	cur := live.Current()
	if !res.ok || cur.ModelVersion() == r.ModelVersion() || cur.ModelStats().Examples != r.ModelStats().Examples+1 {
		t.Fatalf("after the edit: %+v, model %s (was %s), stats %+v", res, cur.ModelVersion(), r.ModelVersion(), cur.ModelStats())
	}

	writeReplace(t, examples, "examples:\n  - {team: biling, text: x}\n")
	res = next(t, results)
	if res.ok || live.Current() != cur || !strings.Contains(res.err.Error(), `unknown team "biling"`) {
		t.Fatalf("broken examples: %+v", res)
	}
	if logs.FilterMessageSnippet("rules file rejected").Len() != 1 {
		t.Errorf("rejection not logged")
	}
	if err := os.Remove(examples); err != nil {
		t.Fatal(err)
	}
	if res := next(t, results); res.ok || live.Current() != cur {
		t.Fatalf("examples removed: %+v", res)
	}
}
