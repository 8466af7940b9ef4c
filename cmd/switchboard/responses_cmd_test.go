package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/responses/report"
	"github.com/switchboard/switchboard/router/decisions"
)

// responsesFixture is an embedded backbone with a config file pointing at
// it and two routed items, one answered after 20 minutes.
func responsesFixture(t *testing.T) (cfgPath string, records *decisions.Store, cfg *config.Config) {
	t.Helper()
	dir := t.TempDir()
	y := fmt.Sprintf(`data_dir: data
http: {listen: ''}
nats: {embedded: {listen: %q}}
connectors: {intake: {enabled: false}}
responses:
  service_levels:
    default: {targets: {public: 1h, email: 24h}}
`, freeAddr(t))
	cfg, cfgPath = loadTestConfig(t, dir, y)
	b := bustest.Open(t, cfg)
	ctx := context.Background()
	if _, err := openResponseStreams(ctx, cfg, b.JS); err != nil {
		t.Fatal(err)
	}
	records, err := decisions.Open(ctx, b.JS, decisionsConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-3 * time.Hour)
	for _, r := range []*decisions.Record{
		{ID: "facebook:1_2", Kind: "comment", Teams: []string{"billing"}, CreatedAt: t0, ReceivedAt: t0, RoutedAt: t0,
			Response: &decisions.Response{ID: "facebook:1_3", At: t0.Add(20 * time.Minute), Status: message.StatusResponded, DelaySeconds: 1200}},
		{ID: "email:x@y", Kind: "email", Teams: []string{"billing"}, CreatedAt: t0, ReceivedAt: t0, RoutedAt: t0, Snippet: "Lasku on väärin"},
	} {
		r.Outcome = decisions.OutcomeRouted
		if _, err := records.Update(ctx, r.ID, func(*decisions.Record) (*decisions.Record, error) { return r, nil }); err != nil {
			t.Fatal(err)
		}
	}
	return cfgPath, records, cfg
}

func TestReportCommand(t *testing.T) {
	cfgPath, _, _ := responsesFixture(t)
	ctx := context.Background()
	var out, errs bytes.Buffer
	if code := reportCmd(ctx, []string{"-config", cfgPath, "--since", "1d"}, &out, &errs); code != 0 {
		t.Fatalf("report: %d\n%s", code, errs.String())
	}
	for _, s := range []string{"billing", "facebook", "20m", "email:x@y", "Lasku on väärin", "50%"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	out.Reset()
	if code := reportCmd(ctx, []string{"-config", cfgPath, "-json", "-team", "billing"}, &out, &errs); code != 0 {
		t.Fatalf("report -json: %d\n%s", code, errs.String())
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Teams) != 1 || rep.Teams[0].Routed != 2 || rep.Teams[0].Responded != 1 || rep.Teams[0].OpenNow != 1 {
		t.Fatalf("json report: %+v", rep.Teams)
	}
	for _, bad := range [][]string{{"-since", "forever"}, {"-team", "Billing"}, {"extra"}} {
		if code := reportCmd(ctx, append([]string{"-config", cfgPath}, bad...), &out, &errs); code != 2 {
			t.Errorf("report %v: exit %d, want 2", bad, code)
		}
	}
}

func TestHandledCommand(t *testing.T) {
	cfgPath, _, cfg := responsesFixture(t)
	ctx := context.Background()
	var out, errs bytes.Buffer
	if code := handledCmd(ctx, []string{"-config", cfgPath, "email:x@y", "--status", "no_response_needed", "--by", "maija", "--note", "spam"}, &out, &errs); code != 0 {
		t.Fatalf("handled: %d\n%s", code, errs.String())
	}
	if !strings.Contains(out.String(), "email:x@y marked no_response_needed by maija") {
		t.Fatalf("output: %s", out.String())
	}
	out.Reset()
	if code := handledCmd(ctx, []string{"-config", cfgPath, "-status", "no_response_needed", "email:x@y"}, &out, &errs); code != 0 || !strings.Contains(out.String(), "already marked") {
		t.Fatalf("again: %d %s %s", code, out.String(), errs.String())
	}
	// The signal is on the responses stream for the tracker.
	nc, js, err := dialNATS(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s, err := js.Stream(ctx, cfg.Responses.Stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, "switchboard.response.handled")
	if err != nil {
		t.Fatal(err)
	}
	var r message.Response
	if err := json.Unmarshal(m.Data, &r); err != nil || r.InReplyTo != "email:x@y" || r.By != "maija" || r.Note != "spam" || r.Status != message.StatusNoResponseNeeded {
		t.Fatalf("published %+v %v", r, err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"email:nope"}, 1, "no routed item"},
		{[]string{"-status", "done", "email:x@y"}, 2, "status"},
		{[]string{}, 2, "give one item ID"},
		{[]string{"a", "b"}, 2, "give one item ID, not 2"},
	}
	for _, tt := range tests {
		errs.Reset()
		if code := handledCmd(ctx, append([]string{"-config", cfgPath}, tt.args...), &out, &errs); code != tt.code || !strings.Contains(errs.String(), tt.want) {
			t.Errorf("handled %v: %d %q, want %d mentioning %q", tt.args, code, errs.String(), tt.code, tt.want)
		}
	}
}

// The daemon runs the tracker: its streams exist and the handled endpoint
// answers on a loopback listener.
func TestDaemonRunsTheTracker(t *testing.T) {
	cfg, _ := testConfig(t)
	d, _ := startDaemon(t, cfg)
	ctx := context.Background()
	for _, name := range []string{"SWITCHBOARD_RESPONSES", "SWITCHBOARD_ESCALATIONS", "SWITCHBOARD_DECISIONS", "KV_switchboard_escalated"} {
		if _, err := d.bus.JS.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
	post := func(token string) int {
		req, err := http.NewRequest("POST", "http://"+d.httpAddr+"/v1/messages/web:nope/handled", strings.NewReader(`{"by": "maija"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Fatalf("handled without the ops token: %d, want 401", code)
	}
	if code := post(testOpsToken); code != http.StatusNotFound {
		t.Fatalf("handled for an unknown item: %d, want 404", code)
	}
}
