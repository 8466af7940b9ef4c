package bench

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

const testRules = `default_team: triage
teams:
  - name: triage
  - name: billing
    targets:
      - type: webhook
        url: https://hooks.example.com/services/SECRETPATH
vocabularies:
  money: [lasku, invoice, refund, charged twice, veloitettu kahdesti, laskutus, maksu]
routes:
  - id: billing
    team: billing
    match: {text: {any: [$money]}}
`

func loadRules(t *testing.T, y string) *rules.Rules {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestCorpus(t *testing.T) {
	tests := []struct{ n, size int }{{1, 1}, {7, 100}, {300, 300}, {90, 2000}}
	for _, tt := range tests {
		envs := Corpus(tt.n, tt.size)
		if len(envs) != tt.n {
			t.Fatalf("Corpus(%d) made %d", tt.n, len(envs))
		}
		if again := Corpus(tt.n, tt.size); !reflect.DeepEqual(envs, again) {
			t.Fatalf("Corpus(%d, %d) is not deterministic", tt.n, tt.size)
		}
		ids := map[string]bool{}
		for i, e := range envs {
			if err := e.Validate(); err != nil {
				t.Fatalf("envelope %d: %v", i, err)
			}
			if len(e.Text) < tt.size || ids[e.ID] || !e.ReceivedAt.IsZero() {
				t.Fatalf("envelope %d: text %d bytes (size %d), id %s repeated %v, received_at %v", i, len(e.Text), tt.size, e.ID, ids[e.ID], e.ReceivedAt)
			}
			ids[e.ID] = true
		}
	}
	// Every channel and both languages appear in a large enough corpus.
	channels := map[string]int{}
	for _, e := range Corpus(600, 50) {
		channels[e.Channel]++
	}
	for _, c := range []string{"email", "web", "facebook", "x"} {
		if channels[c] == 0 {
			t.Errorf("no %s messages: %v", c, channels)
		}
	}
}

func TestQuantiles(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Latency
	}{
		{"none", nil, Latency{}},
		{"one", ms(5), Latency{5, 5, 5, 5}},
		{"unsorted", ms(3, 1, 2, 4), Latency{P50: 2, P90: 4, P99: 4, Max: 4}},
		{"1 to 100", ms(hundred...), Latency{P50: 50, P90: 90, P99: 99, Max: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.in...)
			if got := Quantiles(tt.in); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(in, tt.in) {
				t.Fatal("Quantiles sorted its argument")
			}
		})
	}
}

func TestHeapSampler(t *testing.T) {
	h := StartHeapSampler(time.Millisecond)
	keep := make([]byte, 32<<20)
	for i := range keep {
		keep[i] = byte(i)
	}
	peak := h.Stop()
	runtime.KeepAlive(keep)
	if peak < 32<<20 {
		t.Fatalf("peak %d bytes while 32 MiB were live", peak)
	}
	if h.Peak() != peak {
		t.Fatalf("Peak %d after Stop returned %d", h.Peak(), peak)
	}
}

func TestNATSOnly(t *testing.T) {
	rs := loadRules(t, testRules)
	got, replaced := NATSOnly(rs)
	if len(replaced) != 1 || !strings.Contains(replaced[0], "team billing: webhook https://hooks.example.com") || strings.Contains(replaced[0], "SECRETPATH") {
		t.Fatalf("replaced %q", replaced)
	}
	for _, tm := range got.Teams() {
		for _, tg := range tm.Targets {
			if tg.Type != "nats" {
				t.Fatalf("team %s still has %s", tm.Name, tg)
			}
		}
	}
	if len(rs.Teams()[1].Targets) != 1 || rs.Teams()[1].Targets[0].Type != "webhook" {
		t.Fatal("NATSOnly changed the rules it was given")
	}
	plain := loadRules(t, "default_team: triage\nteams: [{name: triage}]\n")
	if same, none := NATSOnly(plain); none != nil || same != router.Ruleset(plain) {
		t.Fatalf("rules with NATS targets only came back changed: %v", none)
	}
}

func TestMeasureClassify(t *testing.T) {
	rs := loadRules(t, testRules)
	c := MeasureClassify(rs, Corpus(30, 200), 10*time.Millisecond)
	if c.NsPerOp <= 0 || c.AllocsPerOp < 0 || c.BytesPerOp < 0 {
		t.Fatalf("cost %+v", c)
	}
	if (MeasureClassify(rs, nil, time.Millisecond) != ClassifyCost{}) {
		t.Fatal("no messages must cost nothing")
	}
}

// buildRouter builds a real router with NATS targets only, as the daemon
// does for the bench.
func buildRouter(ctx context.Context, cfg *config.Config, b *bus.Bus, rs router.Ruleset, m *telemetry.Metrics, log *zap.Logger) (Router, func(), error) {
	progress, threads, err := router.OpenState(ctx, b.JS, router.StateConfig{ProgressBucket: cfg.Delivery.ProgressBucket, Replicas: 1})
	if err != nil {
		return nil, nil, err
	}
	rt := router.New(router.Config{
		Stream: b.Subjects.IngestStream, FilterSubject: b.Subjects.AllIngest(), Consumer: cfg.Router.Consumer,
		AckWait: time.Duration(cfg.Router.AckWait), MaxDeliver: cfg.Router.MaxDeliver, Workers: cfg.Router.Workers,
	}, router.Deps{
		JS: b.JS, Rules: router.Static(rs), Targets: &targets.Factory{NATS: targets.NewNATS(b.JS, b.Subjects.TeamStream, b.Subjects.Team)},
		Dead:     router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		Progress: progress, Threads: threads, Metrics: telemetry.RouterMetrics{M: m}, Log: log,
	})
	return rt, func() {}, nil
}

func TestRun(t *testing.T) {
	cfg := config.Default()
	cfg.Delivery.ProgressBucket = "bench_progress"
	var notes []string
	rep, err := Run(context.Background(), Options{
		Router: cfg.Router, Delivery: cfg.Delivery, Rules: loadRules(t, testRules), RulesFile: "rules.yaml",
		Messages: 90, TextSize: 120, Workers: 2, Timeout: time.Minute, Build: buildRouter,
		Note: func(s string) { notes = append(notes, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 90 || rep.Routed != 90 || rep.Noise != 0 || rep.DeadLettered != 0 || rep.TeamCopies != 90 || rep.Workers != 2 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Teams["billing"] == 0 || rep.Teams["triage"] == 0 {
		t.Fatalf("teams %v", rep.Teams)
	}
	if l := rep.Latency; !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || rep.Throughput <= 0 || rep.PeakHeapBytes == 0 || rep.Classify.NsPerOp <= 0 {
		t.Fatalf("measurements %+v", rep)
	}
	if len(notes) != 1 || len(rep.ReplacedTargets) != 1 {
		t.Fatalf("notes %q, replaced %q", notes, rep.ReplacedTargets)
	}
	if _, err := Run(context.Background(), Options{Messages: 1}); err == nil {
		t.Fatal("Run without rules and a router builder must fail")
	}
}
