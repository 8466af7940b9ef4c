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

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/router"
)

// deadFixture is an embedded backbone with a config file pointing at it and
// three dead letters: delivery_failed (billing), rejected (comms) and
// malformed.
type deadFixture struct {
	cfgPath string
	b       *bus.Bus
}

func newDeadFixture(t *testing.T) *deadFixture {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	y := fmt.Sprintf("data_dir: data\nhttp: {listen: ''}\nnats: {embedded: {listen: %q}}\nconnectors: {intake: {enabled: false}}\n", addr)
	cfg, path := loadTestConfig(t, dir, y)
	f := &deadFixture{cfgPath: path, b: bustest.Open(t, cfg)}
	f.put(t, router.DeadLetter{Reason: router.ReasonDeliveryFailed, Team: "billing", Target: "webhook:hooks.example.com", Error: "webhook answered 503\nService Unavailable",
		Subject: "switchboard.ingest.web", StreamSeq: 7, Deliveries: 10, Envelope: json.RawMessage(`{"v":1,"id":"web:1","channel":"web","kind":"web","source_id":"1","text":"lasku"}`)})
	f.put(t, router.DeadLetter{Reason: router.ReasonRejected, Team: "comms", Target: "webhook:hooks.slack.com", Error: "webhook refused web:2: 400 Bad Request",
		Subject: "switchboard.ingest.web", StreamSeq: 8, Deliveries: 1, Envelope: json.RawMessage(`{"v":1,"id":"web:2","channel":"web","kind":"web","source_id":"2","text":"x"}`)})
	f.put(t, router.DeadLetter{Reason: router.ReasonMalformed, Error: "decoding envelope: invalid character", Subject: "switchboard.ingest.web", StreamSeq: 9, Deliveries: 1, Raw: "not json"})
	return f
}

func (f *deadFixture) put(t *testing.T, dl router.DeadLetter) {
	t.Helper()
	dl.FailedAt = time.Now().UTC()
	data, _ := json.Marshal(dl)
	if _, err := f.b.JS.Publish(context.Background(), f.b.Subjects.Dead(dl.Reason), data, jetstream.WithExpectStream(f.b.Subjects.DeadStream)); err != nil {
		t.Fatal(err)
	}
}

func (f *deadFixture) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code = dispatch(ctx, append(append([]string{"dead"}, args...), "-config", f.cfgPath), &out, &errOut)
	return code, out.String(), errOut.String()
}

// ingested returns the ingest stream's messages.
func (f *deadFixture) ingested(t *testing.T) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := f.b.JS.Stream(ctx, f.b.Subjects.IngestStream)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func TestDeadList(t *testing.T) {
	f := newDeadFixture(t)
	tests := []struct {
		name     string
		args     []string
		want     []string
		notWant  []string
		wantRows int
	}{
		{"all", []string{"list"}, []string{"SEQ", "REASON", "delivery_failed", "billing", "webhook:hooks.example.com", "web:1", "webhook answered 503 Service Unavailable", "rejected", "malformed"}, nil, 3},
		{"by reason", []string{"list", "--reason", "rejected"}, []string{"rejected", "comms", "web:2"}, []string{"billing", "malformed"}, 1},
		{"most recent", []string{"list", "-n", "1"}, []string{"malformed"}, []string{"billing"}, 1},
		{"since a duration", []string{"list", "-since", "1h"}, []string{"billing"}, nil, 3},
		{"since the future", []string{"list", "-since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, nil, []string{"billing"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := f.run(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if rows := strings.Count(out, "\n") - 1; rows != tt.wantRows {
				t.Errorf("%d rows, want %d:\n%s", rows, tt.wantRows, out)
			}
			if !strings.Contains(errOut, fmt.Sprintf("%d dead letter(s)", tt.wantRows)) {
				t.Errorf("stderr %q", errOut)
			}
		})
	}

	code, out, _ := f.run(t, "list", "--json")
	if code != 0 {
		t.Fatalf("json exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d json lines", len(lines))
	}
	var e router.DeadEntry
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.Reason != router.ReasonDeliveryFailed || e.EnvelopeID() != "web:1" || e.Stored.IsZero() || e.Deliveries != 10 {
		t.Fatalf("json entry %+v", e)
	}
}

func TestDeadReplay(t *testing.T) {
	f := newDeadFixture(t)

	code, out, errOut := f.run(t, "replay", "-id", "1", "--dry-run")
	if code != 0 || !strings.Contains(out, "would replay 1 (web:1, reason delivery_failed, team billing) to switchboard.ingest.web") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if n := len(f.ingested(t)); n != 0 {
		t.Fatalf("dry run published %d messages", n)
	}

	code, out, errOut = f.run(t, "replay", "-id", "1")
	if code != 0 || !strings.Contains(out, "replayed 1 (web:1, reason delivery_failed, team billing) as ingest seq 1") {
		t.Fatalf("replay by seq: exit %d\n%s%s", code, out, errOut)
	}
	msgs := f.ingested(t)
	if len(msgs) != 1 {
		t.Fatalf("%d ingested", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "switchboard.ingest.web" || m.Header.Get(router.HeaderReplayOf) != "1" || m.Header.Get(router.HeaderReplayTeam) != "billing" ||
		m.Header.Get(nats.MsgIdHdr) != "replay:"+f.b.Subjects.DeadStream+":1" || !strings.Contains(string(m.Data), `"id":"web:1"`) {
		t.Fatalf("replayed message %s %v %s", m.Subject, m.Header, m.Data)
	}
	// Gone from the dead letters; replaying it again says so.
	code, _, errOut = f.run(t, "replay", "-id", "1")
	if code != 1 || !strings.Contains(errOut, "no dead letter 1") {
		t.Fatalf("replaying a replayed seq: exit %d: %s", code, errOut)
	}

	// By envelope id.
	code, out, errOut = f.run(t, "replay", "--id", "web:2")
	if code != 0 || !strings.Contains(out, "replayed 2 (web:2, reason rejected, team comms)") {
		t.Fatalf("replay by envelope id: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = f.run(t, "replay", "--id", "web:404")
	if code != 1 || !strings.Contains(errOut, `no dead letter for envelope "web:404"`) {
		t.Fatalf("unknown envelope: exit %d: %s", code, errOut)
	}

	// By reason: the malformed one goes back as its raw bytes, with no team.
	code, out, errOut = f.run(t, "replay", "-reason", "malformed")
	if code != 0 || !strings.Contains(out, "replayed 3") || !strings.Contains(errOut, "1 replayed, 0 failed") {
		t.Fatalf("replay by reason: exit %d\n%s%s", code, out, errOut)
	}
	msgs = f.ingested(t)
	if len(msgs) != 3 || string(msgs[2].Data) != "not json" || msgs[2].Header.Get(router.HeaderReplayTeam) != "" {
		t.Fatalf("ingested after reason replay: %d", len(msgs))
	}
	code, out, _ = f.run(t, "list")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("dead letters left after replaying all three:\n%s", out)
	}
	code, _, errOut = f.run(t, "replay", "-all")
	if code != 0 || !strings.Contains(errOut, "0 replayed, 0 failed") {
		t.Fatalf("replay -all on nothing: exit %d: %s", code, errOut)
	}
}

func TestDeadCommandUsageErrors(t *testing.T) {
	f := newDeadFixture(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", nil, 2, "which command?"},
		{"unknown subcommand", []string{"purge"}, 2, `unknown command "purge"`},
		{"replay without a selection", []string{"replay"}, 2, "choose exactly one of -id, -all or -reason"},
		{"replay with two selections", []string{"replay", "-all", "-id", "3"}, 2, "choose exactly one"},
		{"bad reason", []string{"list", "-reason", "Not A Reason"}, 2, `-reason "Not A Reason"`},
		{"bad since", []string{"list", "-since", "yesterday"}, 2, `-since "yesterday"`},
		{"negative n", []string{"list", "-n", "-1"}, 2, "-n must be 0"},
		{"stray argument", []string{"list", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"dead"}, tt.args...)
			if len(tt.args) > 0 && (tt.args[0] == "list" || tt.args[0] == "replay") {
				args = append([]string{"dead", tt.args[0], "-config", f.cfgPath}, tt.args[1:]...)
			}
			code := dispatch(context.Background(), args, &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.code, errOut.String(), tt.want)
			}
		})
	}
	// No daemon: a clear connection error.
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	_ = os.WriteFile(path, []byte("nats: {embedded: {listen: '127.0.0.1:1'}}\nconnectors: {intake: {enabled: false}}\n"), 0o600)
	if code := dispatch(context.Background(), []string{"dead", "list", "-config", path}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "is the daemon running?") {
		t.Fatalf("no daemon: exit %d: %s", code, errOut.String())
	}
}
