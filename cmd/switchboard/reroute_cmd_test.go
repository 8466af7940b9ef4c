package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
)

// TestRerouteAndReportCmds: reroute an item the way an operator does, then
// count the correction with rules report. (The router's part, delivering
// the rerouted copy, is tested in router/reroute.)
func TestRerouteAndReportCmds(t *testing.T) {
	cfgPath, b := backtestSetup(t, []string{"Laskussani on virhe"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	records, err := decisions.Open(ctx, b.JS, decisionsConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	// Before the daemon created the corrections stream: a clear error.
	if code, _, errs := runArgs(t, "reroute", "-config", cfgPath, "web:0", "logistics"); code != 1 || !strings.Contains(errs, "start the daemon") {
		t.Errorf("without the streams: exit %d, %q", code, errs)
	}
	if _, err := corrections.Open(ctx, b.JS, correctionsConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	// The router's record of the item: billing decided it.
	if _, err := records.Update(ctx, "web:0", func(*decisions.Record) (*decisions.Record, error) {
		return &decisions.Record{Seq: 1, Teams: []string{"billing"}, Reason: decisions.ReasonText, Route: "billing",
			Routes: []decisions.RouteMatch{{ID: "billing"}}, RulesVersion: "abc", Outcome: decisions.OutcomeRouted}, nil
	}); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runArgs(t, "reroute", "-config", cfgPath, "-by", "maija", "-note", "paketti", "web:0", "logistics")
	if code != 0 || !strings.Contains(out, "web:0: rerouted from billing to logistics") {
		t.Fatalf("reroute: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runArgs(t, "reroute", "-config", cfgPath, "-json", "web:0", "logistics")
	if code != 0 || !strings.Contains(out, `"duplicate": true`) {
		t.Errorf("second reroute: exit %d, %s", code, out)
	}
	for _, tt := range []struct {
		args []string
		code int
		errs string
	}{
		{[]string{"reroute", "-config", cfgPath, "web:0"}, 2, "give the item's ID and the TEAM"},
		{[]string{"reroute", "-config", cfgPath, "web:0", "nobody"}, 1, `team "nobody" is not in the rules in force`},
		{[]string{"reroute", "-config", cfgPath, "web:404", "logistics"}, 1, "no decision record for web:404"},
	} {
		if code, _, errs := runArgs(t, tt.args...); code != tt.code || !strings.Contains(errs, tt.errs) {
			t.Errorf("%v: exit %d, %q; want %d, %q", tt.args, code, errs, tt.code, tt.errs)
		}
	}
	// The rerouted copy is in the ingest stream, with the headers.
	s, err := b.JS.Stream(ctx, b.Subjects.IngestStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, b.Subjects.Ingest("web"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(router.HeaderRerouteTeam) != "logistics" || m.Header.Get(router.HeaderRerouteBy) != "maija" || m.Header.Get(router.HeaderRerouteNote) != "paketti" {
		t.Errorf("rerouted copy's headers: %v", m.Header)
	}

	code, out, errs = runArgs(t, "rules", "report", "-config", cfgPath)
	if code != 0 || !strings.Contains(out, "1 items rerouted (1 corrections)") || !strings.Contains(out, "billing  1          logistics 1") {
		t.Errorf("report: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runArgs(t, "rules", "report", "-config", cfgPath, "-since", "1h", "-json")
	var rep corrections.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Items != 1 || rep.Routes[0].Route != "billing" || rep.Teams[0] != (corrections.TeamCount{Team: "billing", Away: 1}) {
		t.Errorf("report json: exit %d, %+v\n%s", code, rep, out)
	}
	if code, _, errs := runArgs(t, "rules", "report", "-config", cfgPath, "-since", "soon"); code != 2 || !strings.Contains(errs, "-since") {
		t.Errorf("bad -since: exit %d, %q", code, errs)
	}
}

// runArgs runs a switchboard command line as main does.
func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = dispatch(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}
