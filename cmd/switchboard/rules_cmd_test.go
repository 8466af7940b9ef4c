package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
	"github.com/switchboard/switchboard/rules/backtest"
)

const cmdRules = `default_team: triage
teams:
  - name: triage
  - name: billing
  - name: logistics
  - name: sales
vocabularies:
  money: [lasku, refund]
routes:
  - id: spam
    noise: true
    match: {text: {any: [bitcoin]}}
  - id: billing
    team: billing
    match: {text: {any: [$money]}}
    topics: [billing]
    routes:
      - id: refund
        match: {text: {any: [refund]}}
        priority: high
  - id: logistics
    team: logistics
    copy_to: [sales]
    match: {text: {any: [paketti]}}
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runRules(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = dispatch(ctx, append([]string{"rules"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// checkRulesRun runs "switchboard rules ARGS", stops the test unless it
// exits with code, and reports each of out missing from its stdout and each
// of errs missing from its stderr. It returns the stderr.
func checkRulesRun(t *testing.T, args []string, code int, out, errs []string) (stderr string) {
	t.Helper()
	gotCode, stdout, stderr := runRules(t, args...)
	if gotCode != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", gotCode, code, stdout, stderr)
	}
	for _, w := range out {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	for _, w := range errs {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	return stderr
}

func TestRulesCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", cmdRules)
	bad := writeFile(t, dir, "bad.yaml", "default_team: triage\nteams: [{name: triage}]\nroutes:\n  - id: a\n    team: billing\n  - id: a\n    match: {text: {regex: ['(']}}\n")
	warn := writeFile(t, dir, "warn.yaml", strings.Replace(cmdRules, "    copy_to: [sales]\n", "", 1))
	truncated := writeFile(t, dir, "truncated.yaml", cmdRules[:strings.Index(cmdRules, "routes:")+len("routes:\n")])
	noSales := writeFile(t, dir, "nosales.yaml", strings.NewReplacer("    copy_to: [sales]\n", "", "  - name: sales\n", "").Replace(cmdRules))

	tests := []struct {
		name      string
		args      []string
		code      int
		out, errs []string
	}{
		{"valid", []string{"check", good}, 0, []string{good + ": ok (version ", "4 routes, 4 teams)"}, nil},
		{"problems, one per line", []string{"check", bad}, 1, nil, []string{
			bad + `:5:11: unknown team "billing": declare it under teams:`,
			bad + `:6:9: duplicate route id "a"`,
			bad + ":7:28: invalid regular expression: missing closing ): `(`",
		}},
		{"missing file", []string{"check", filepath.Join(dir, "nope.yaml")}, 1, nil, []string{"reading rules:"}},
		{"shipped example", []string{"check", "../../rules.yaml"}, 0, []string{"../../rules.yaml: ok"}, nil},
		{"too many args", []string{"check", "a", "b"}, 2, nil, []string{"give one file, not 2"}},
		{"unknown subcommand", []string{"lint"}, 2, nil, []string{`unknown command "lint"`}},
		{"valid with warnings", []string{"check", warn}, 0, []string{"ok"}, []string{warn + `:6:11: warning: team "sales" is declared but no route sends it anything`}},
		{"a truncated file", []string{"check", truncated, "-against", good}, 0, []string{"ok"}, []string{
			truncated + `:9:9: warning: the file has no routes: every item that is not noise goes to default_team "triage"; is the file cut short?`,
			truncated + ": warning: compared with " + good + " (the daemon refuses such a reload unless forced): the new rules have no routes (the running ones have 4)",
		}},
		{"fewer teams", []string{"check", "-against", good, noSales}, 0, []string{"ok"}, []string{
			noSales + ": warning: compared with " + good + ` (the daemon refuses such a reload unless forced): the new rules remove team "sales", which queued or retrying items may still reference`,
		}},
		{"against a broken file", []string{"check", "-against", bad, good}, 1, nil, []string{"the file to compare against does not load"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := checkRulesRun(t, tt.args, tt.code, tt.out, tt.errs)
			if tt.name == "problems, one per line" && strings.Count(strings.TrimSpace(errs), "\n") != 2 {
				t.Errorf("want exactly 3 lines:\n%s", errs)
			}
		})
	}
}

func TestRulesTest(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "rules.yaml", cmdRules)
	msg := writeFile(t, dir, "msg.json", `{"v":1,"id":"email:1","channel":"email","kind":"email","source_id":"1","subject":"Laskusta","text":"haluan rahat takaisin","lang":"fi"}`)
	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"inflected Finnish", []string{"test", "-rules", path, "Laskussani on virhe"}, 0, []string{
			"teams     billing", "topics    billing", "lang      fi (detected", "✓ billing (line 13) *",
			`✓ text.any: lasku ← "laskussani"`, "✗ refund (line 18)", "- logistics (line 21)", `route "billing" matched before it without continue`}},
		{"child decides", []string{"test", "-rules", path, "-lang", "en", "I want a refund"}, 0, []string{
			"teams     billing", "priority  high", "matched   billing, refund", "lang      en (declared"}},
		{"flags after the text", []string{"test", "paketti tuli rikki", "-rules", path, "-channel", "email"}, 0, []string{"teams     logistics, sales"}},
		{"noise", []string{"test", "-rules", path, "buy bitcoin now"}, 0, []string{"noise     yes", "✓ spam"}},
		{"default team", []string{"test", "-rules", path, "kiitos"}, 0, []string{"teams     triage", "matched   -"}},
		{"message file", []string{"test", "-rules", path, "-message", msg}, 0, []string{"teams     billing", "lang      fi (declared"}},
		{"no text", []string{"test", "-rules", path}, 2, nil},
		{"text and message", []string{"test", "-rules", path, "-message", msg, "x"}, 2, nil},
		{"bad thread", []string{"test", "-rules", path, "-thread", "old", "x"}, 2, nil},
		{"invalid rules", []string{"test", "-rules", writeFile(t, dir, "bad.yaml", "routes: []\n"), "x"}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRulesRun(t, tt.args, tt.code, tt.out, nil)
		})
	}
}

func TestRulesTestJSON(t *testing.T) {
	path := writeFile(t, t.TempDir(), "rules.yaml", cmdRules)
	code, out, errs := runRules(t, "test", "-rules", path, "-json", "-channel", "facebook", "-meta", "object=visitor_post", "Paketti ei tullut")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Decision rules.Decision `json:"decision"`
		Trace    rules.Trace    `json:"trace"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d := got.Decision
	if strings.Join(d.Teams, ",") != "logistics,sales" || d.Lang != "fi" || len(got.Trace.Routes) != 4 || !got.Trace.Routes[3].Decided {
		t.Fatalf("%+v", got)
	}
	if h := got.Trace.Routes[3].Conditions[0].Hits; len(h) != 1 || h[0].Words[0] != "paketti" {
		t.Fatalf("hits %+v", h)
	}
}

// backtestSetup starts an embedded backbone, stores envelopes in the ingest
// stream and writes a config whose live rules are cmdRules.
func backtestSetup(t *testing.T, texts []string) (cfgPath string, b *bus.Bus) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "live.yaml", cmdRules)
	cfg, cfgPath := loadTestConfig(t, dir, fmt.Sprintf("data_dir: data\nnats: {embedded: {listen: %q}}\nrouter: {rules_file: live.yaml}\nconnectors: {intake: {enabled: false}}\n", freeAddr(t)))
	b = bustest.Open(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, text := range texts {
		env := message.Envelope{Version: message.SchemaVersion, Channel: "web", Kind: message.KindWeb, SourceID: fmt.Sprint(i),
			Text: text, CreatedAt: time.Now(), ReceivedAt: time.Now()}
		env.ID = message.MakeID(env.Channel, env.SourceID)
		data, _ := json.Marshal(env)
		if _, err := b.JS.Publish(ctx, b.Subjects.Ingest("web"), data); err != nil {
			t.Fatal(err)
		}
	}
	// A message that is not an envelope is skipped and counted.
	if _, err := b.JS.Publish(ctx, b.Subjects.Ingest("web"), []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	return cfgPath, b
}

func TestRulesBacktest(t *testing.T) {
	texts := []string{
		"Laskussani on virhe",   // billing → billing
		"refund please",         // billing → billing (priority changes)
		"paketti myöhässä",      // logistics+sales → logistics
		"paketin seuranta",      // logistics+sales → logistics
		"kiitos",                // triage → triage
		"bitcoin lasku",         // noise → billing
		"tilaan uuden tuotteen", // triage → sales
	}
	cfgPath, b := backtestSetup(t, texts)
	newRules := strings.NewReplacer(
		"  - id: spam\n    noise: true\n    match: {text: {any: [bitcoin]}}\n", "",
		"        priority: high\n", "        priority: urgent\n",
		"    copy_to: [sales]\n", "",
	).Replace(cmdRules) + "  - id: orders\n    team: sales\n    match: {text: {any: [tilata]}}\n"
	newPath := writeFile(t, filepath.Dir(cfgPath), "new.yaml", newRules)

	code, out, errs := runRules(t, "backtest", "-config", cfgPath, "-rules", newPath, "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep backtest.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Messages != 7 || rep.Unreadable != 1 || rep.Changed != 4 || rep.Other != 1 || rep.Unchanged != 2 {
		t.Fatalf("counts %+v", rep)
	}
	want := []string{"logistics+sales → logistics ×2", "(noise) → billing ×1", "triage → sales ×1"}
	var got []string
	for _, tr := range rep.Transitions {
		got = append(got, fmt.Sprintf("%s → %s ×%d", tr.From, tr.To, tr.Count))
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("transitions %v, want %v", got, want)
	}
	if ex := rep.Transitions[0].Examples; len(ex) != 2 || ex[0].ID != "web:2" || ex[0].NewMatched[0] != "logistics" {
		t.Fatalf("examples %+v", ex)
	}

	// -last 2: only the last two envelopes (and the unreadable one).
	code, out, _ = runRules(t, "backtest", "-config", cfgPath, "-rules", newPath, "-last", "3", "-json")
	rep = backtest.Report{}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Messages != 2 || rep.Changed != 2 {
		t.Fatalf("-last 3: exit %d, %v, %+v", code, err, rep)
	}

	// The text report.
	code, out, _ = runRules(t, "backtest", "-config", cfgPath, "-rules", newPath, "-examples", "1")
	for _, w := range []string{"7 messages: 4 would change team (57.1%), 3 keep their team (1 of them with other topics", "1 unreadable messages skipped",
		"from             to         count\nlogistics+sales  logistics  2\n(noise)          billing    1", `web:2  "paketti myöhässä"`} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("text report lacks %q:\n%s", w, out)
		}
	}

	// Nothing was published: the ingest stream holds what the test put
	// there, the team stream nothing.
	ctx := context.Background()
	for name, want := range map[string]uint64{b.Subjects.IngestStream: 8, b.Subjects.TeamStream: 0} {
		s, err := b.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != want {
			t.Errorf("stream %s has %d messages after the backtest, want %d", name, info.State.Msgs, want)
		}
	}
}

func TestRulesBacktestErrors(t *testing.T) {
	cfgPath, _ := backtestSetup(t, nil)
	bad := writeFile(t, filepath.Dir(cfgPath), "bad.yaml", "default_team: nobody\n")
	tests := []struct {
		args []string
		code int
		errs string
	}{
		{[]string{"backtest", "-config", cfgPath}, 2, "-rules NEW.yaml is required"},
		{[]string{"backtest", "-config", cfgPath, "-rules", bad}, 1, "bad.yaml:1:15: default team \"nobody\" is not declared"},
		{[]string{"backtest", "-config", cfgPath, "-rules", bad, "-since", "1h", "-last", "5"}, 2, "not both"},
		{[]string{"backtest", "-config", cfgPath, "-rules", bad, "-since", "soon"}, 2, `-since "soon"`},
		{[]string{"backtest", "-config", filepath.Join(t.TempDir(), "none.yaml"), "-rules", bad}, 1, "reading config"},
	}
	for _, tt := range tests {
		code, _, errs := runRules(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.errs) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, errs, tt.code, tt.errs)
		}
	}
}

func TestRulesTestExamples(t *testing.T) {
	dir := t.TempDir()
	withEx := writeFile(t, dir, "rules.yaml", cmdRules+"examples: ex.yaml\n")
	plain := writeFile(t, dir, "plain.yaml", cmdRules)
	writeFile(t, dir, "ex.yaml", `examples:
  - {team: billing, text: "Laskussa on virhe"}
  - {team: logistics, text: "Paketti ei tullut", id: p1}
  - {team: logistics, text: "sama juttu", reply_to: p1}
  - {team: logistics, text: "paketti ja lasku"}
`)
	good := writeFile(t, dir, "good.tsv", "team\ttext\nbilling\tlasku\n(noise)\tbitcoin\n")
	broken := writeFile(t, dir, "broken.yaml", "examples:\n  - {team: biling, text: x}\n")
	brokenRef := writeFile(t, dir, "brokenref.yaml", cmdRules+"examples: broken.yaml\n")
	tests := []struct {
		name      string
		args      []string
		code      int
		out, errs []string
	}{
		{"the rules' examples, one fails", []string{"test", "-rules", withEx, "-examples"}, 1, []string{
			"4 examples: 3 passed, 1 failed (accuracy 75.0%)",
			"confusion (rows: expected, columns: got)",
			`ex.yaml:5 (web)  "paketti ja lasku"`,
			"expected logistics, got billing: decided by route billing",
		}, nil},
		{"enough accuracy", []string{"test", "-rules", withEx, "-examples", "-min-accuracy", "0.75"}, 0, []string{"3 passed"}, nil},
		{"another file", []string{"test", "-rules", plain, "-examples=" + good}, 0, []string{"2 examples: 2 passed, 0 failed"}, nil},
		{"json", []string{"test", "-rules", withEx, "-examples", "-json"}, 1, []string{`"failed": 1`, `"labels": [`, `"why": "decided by route billing"`}, nil},
		{"file given with a space", []string{"test", "-rules", withEx, "-examples", good}, 2, nil, []string{"to name the file write -examples=FILE"}},
		{"rules without examples", []string{"test", "-rules", plain, "-examples"}, 2, nil, []string{"names no examples file"}},
		{"broken examples", []string{"test", "-rules", plain, "-examples=" + broken}, 2, nil, []string{broken + `:2:12: unknown team "biling"`}},
		{"bad accuracy", []string{"test", "-rules", withEx, "-examples", "-min-accuracy", "95"}, 2, nil, []string{"from 0 to 1"}},
		{"check mentions the examples", []string{"check", withEx}, 0, []string{"; 4 examples in " + filepath.Join(dir, "ex.yaml")}, nil},
		{"check fails on broken examples", []string{"check", brokenRef}, 1, nil, []string{"the examples file the rules name does not load", `unknown team "biling"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRulesRun(t, tt.args, tt.code, tt.out, tt.errs)
		})
	}
}
