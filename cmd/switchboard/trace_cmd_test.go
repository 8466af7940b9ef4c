package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/internal/trace"
)

// runCLI runs one command in-process and returns its exit code and output.
func runCLI(cmd func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := cmd(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTraceAndMessagesSearch(t *testing.T) {
	cfg, cfgPath := testConfig(t)
	d, _ := startDaemon(t, cfg)
	id := postMessage(t, d.httpAddr, `{"text":"Missä on LASKU? \u001b[31m<script>x</script>","author":{"name":"Maija"},"lang":"fi"}`)
	other := postMessage(t, d.httpAddr, `{"text":"Paketti ei tullut","thread_id":"th-1"}`)

	var out string
	// The decision is recorded before delivery; wait for the delivery too.
	testwait.NoError(t, 0, "the trace of "+id+" with its delivery", func() error {
		code, o, e := runCLI(traceCmd, "-config", cfgPath, id)
		if code != 0 {
			return fmt.Errorf("exit %d: %s", code, e)
		}
		out = o
		if !strings.Contains(o, "accepted") {
			return fmt.Errorf("no delivery yet:\n%s", o)
		}
		return nil
	})
	for _, want := range []string{"routed to billing", "matched", "billing", "<script>x</script>", "accepted", "history"} {
		if !strings.Contains(out, want) {
			t.Fatalf("trace lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Fatalf("trace prints an escape sequence:\n%q", out)
	}
	code, js, errOut := runCLI(traceCmd, "-config", cfgPath, "-json", id)
	var tr trace.Trace
	if code != 0 || json.Unmarshal([]byte(js), &tr) != nil || tr.Envelope == nil || tr.Decision.Teams[0] != "billing" {
		t.Fatalf("trace -json: exit %d %s\n%s", code, errOut, js)
	}

	testwait.NoError(t, 0, "both items searchable", func() error {
		code, o, e := runCLI(messagesGroup().Run, "search", "-config", cfgPath, "-since", "1h")
		if code != 0 || !strings.Contains(o, id) || !strings.Contains(o, other) {
			return fmt.Errorf("exit %d: %s%s", code, o, e)
		}
		return nil
	})
	tests := []struct {
		name string
		args []string
		code int
		want string
		dont string
	}{
		{"by team", []string{"-team", "logistics"}, 0, other, id},
		{"by text", []string{"-q", "lasku"}, 0, id, other},
		{"by thread", []string{"-thread", "th-1"}, 0, other, id},
		{"in the past", []string{"-until", "2020-01-01T00:00:00Z"}, 0, "RECEIVED", id},
		{"bad since", []string{"-since", "whenever"}, 2, "", id},
		{"stray argument", []string{"lasku"}, 2, "", id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, o, e := runCLI(messagesGroup().Run, append([]string{"search", "-config", cfgPath}, tt.args...)...)
			if code != tt.code || !strings.Contains(o, tt.want) || strings.Contains(o, tt.dont) {
				t.Fatalf("exit %d (want %d):\n%s%s", code, tt.code, o, e)
			}
		})
	}
	if code, _, e := runCLI(messagesGroup().Run, "search", "-config", cfgPath, "-n", "1"); code != 0 || !strings.Contains(e, "more with -before") {
		t.Fatalf("a full page does not say how to continue: %d %s", code, e)
	}
	if code, _, e := runCLI(traceCmd, "-config", cfgPath, "web:nothing"); code != 1 || !strings.Contains(e, "no decision record") {
		t.Fatalf("trace of an unknown id: %d %s", code, e)
	}
	if code, _, _ := runCLI(traceCmd, "-config", cfgPath); code != 2 {
		t.Fatalf("trace without an id: %d", code)
	}

	// The same over HTTP, with the ops token.
	tok := testOpsToken
	if code, _ := httpGetToken(t, d.httpAddr, "/v1/messages/"+id, ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /v1/messages/{id} without the ops token: %d", code)
	}
	if code, _ := httpGetToken(t, d.httpAddr, "/v1/messages?team=billing", "t0ken"); code != http.StatusUnauthorized {
		t.Fatalf("the intake token opens /v1/messages: %d", code)
	}
	if code, body := httpGetToken(t, d.httpAddr, "/v1/messages/"+id, tok); code != 200 || !strings.Contains(body, `"billing"`) {
		t.Fatalf("GET /v1/messages/{id}: %d %s", code, body)
	}
	if code, body := httpGetToken(t, d.httpAddr, "/v1/messages?team=logistics", tok); code != 200 || !strings.Contains(body, other) || strings.Contains(body, id) {
		t.Fatalf("GET /v1/messages?team=logistics: %d %s", code, body)
	}
}
