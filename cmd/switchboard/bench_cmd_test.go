package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bench"
)

// benchFiles writes a config and a rules file for bench into a temp dir.
func benchFiles(t *testing.T, rulesYAML string) (cfgPath, rulesPath string) {
	t.Helper()
	dir := t.TempDir()
	rulesPath = writeFile(t, dir, "rules.yaml", rulesYAML)
	cfgPath = writeFile(t, dir, "config.yaml", "router:\n  rules_file: rules.yaml\n  workers: 4\nconnectors:\n  intake:\n    enabled: false\n")
	return cfgPath, rulesPath
}

const benchWebhookRules = `default_team: triage
teams:
  - name: triage
  - name: billing
    targets:
      - type: webhook
        url: https://hooks.example.com/services/SECRETPATH
        format: slack
vocabularies:
  money: [lasku, invoice, refund, charged twice, veloitettu kahdesti]
routes:
  - id: billing
    team: billing
    match: {text: {any: [$money]}}
`

func TestBench(t *testing.T) {
	shipped, err := filepath.Abs(filepath.Join("..", "..", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		rules     string // file content; "" uses -rules with the shipped rules.yaml
		n         int
		workers   string
		wantTeams []string // teams that must receive something
		replaced  bool
	}{
		{name: "shipped rules", n: 200, wantTeams: []string{"billing", "logistics", "product", "triage"}},
		{name: "webhook target replaced", rules: benchWebhookRules, n: 60, workers: "2", wantTeams: []string{"billing", "triage"}, replaced: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfgPath, rulesPath := benchFiles(t, c.rules)
			args := []string{"-config", cfgPath, "-n", strconv.Itoa(c.n), "-size", "200", "-json", "-timeout", "60s"}
			if c.rules == "" {
				args = append(args, "-rules", shipped)
				rulesPath = shipped
			}
			if c.workers != "" {
				args = append(args, "-workers", c.workers)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			if code := benchCmd(ctx, args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
			}
			var rep bench.Report
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("decoding the report: %v\n%s", err, stdout.String())
			}
			if rep.Messages != c.n || rep.Routed != c.n || rep.Noise != 0 || rep.DeadLettered != 0 {
				t.Errorf("messages %d, routed %d, noise %d, dead %d; want %d routed, no noise or dead letters",
					rep.Messages, rep.Routed, rep.Noise, rep.DeadLettered, c.n)
			}
			if rep.TeamCopies < rep.Routed {
				t.Errorf("team copies %d < routed %d", rep.TeamCopies, rep.Routed)
			}
			for _, team := range c.wantTeams {
				if rep.Teams[team] == 0 {
					t.Errorf("team %s got nothing: %v", team, rep.Teams)
				}
			}
			if rep.RulesFile != rulesPath {
				t.Errorf("rules file %q, want %q", rep.RulesFile, rulesPath)
			}
			wantWorkers := 4
			if c.workers != "" {
				wantWorkers = 2
			}
			if rep.Workers != wantWorkers {
				t.Errorf("workers %d, want %d", rep.Workers, wantWorkers)
			}
			l := rep.Latency
			if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Max < 60000) {
				t.Errorf("latency quantiles not sane: %+v", l)
			}
			if rep.WallSeconds <= 0 || rep.Throughput <= 0 || rep.Throughput > 1e7 {
				t.Errorf("wall %v s, throughput %v msg/s", rep.WallSeconds, rep.Throughput)
			}
			if rep.Classify.NsPerOp <= 0 || rep.Classify.AllocsPerOp < 0 || rep.Classify.AllocsPerOp > 1000 {
				t.Errorf("classify not sane: %+v", rep.Classify)
			}
			if rep.PeakHeapBytes < 1<<20 {
				t.Errorf("peak heap %d bytes", rep.PeakHeapBytes)
			}
			if rep.AvgTextBytes < 200 || rep.AvgTextBytes > 400 {
				t.Errorf("average text %d bytes for -size 200", rep.AvgTextBytes)
			}
			if got := len(rep.ReplacedTargets) > 0; got != c.replaced {
				t.Errorf("replaced targets %v, want replaced %v", rep.ReplacedTargets, c.replaced)
			}
			if c.replaced && !strings.Contains(stderr.String(), "team billing: webhook https://hooks.example.com (slack) replaced") {
				t.Errorf("stderr does not say the webhook was replaced:\n%s", stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), "SECRETPATH") {
				t.Error("a webhook URL path (a credential for Slack) was printed")
			}
		})
	}
}

func TestBenchText(t *testing.T) {
	cfgPath, _ := benchFiles(t, benchWebhookRules)
	var stdout, stderr bytes.Buffer
	code := benchCmd(context.Background(), []string{"-config", cfgPath, "-n", "20"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"20 messages", "routed:        20 messages", "throughput:", "p99", "ns/op", "peak heap:"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestBenchFlags(t *testing.T) {
	cfgPath, _ := benchFiles(t, benchWebhookRules)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"zero messages", []string{"-n", "0"}, 2, "-n must be at least 1"},
		{"negative workers", []string{"-workers", "-1"}, 2, "-workers must not be negative"},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
		{"missing config", []string{"-config", filepath.Join(t.TempDir(), "none.yaml")}, 1, "none.yaml"},
		{"missing rules", []string{"-config", cfgPath, "-rules", filepath.Join(t.TempDir(), "none.yaml")}, 1, "loading rules"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := benchCmd(context.Background(), c.args, &stdout, &stderr); code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, stderr.String())
			}
		})
	}
}
