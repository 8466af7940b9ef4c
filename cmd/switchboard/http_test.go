package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testwait"
)

// /readyz is not ready before every connector made its first attempt, and
// a connector whose token was rejected does not make it unready: that is
// reported in /v1/connectors instead.
func TestReadinessFirstAttemptAndRejectedCredentials(t *testing.T) {
	release := make(chan struct{})
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}`)
	}))
	defer graph.Close()
	defer close(release)
	_, path := testConfig(t)
	cfg := withConfig(t, path, fmt.Sprintf("  facebook:\n    base_url: %s/\n    pages:\n      - {id: \"111\", token: EAA-page-token}\n", graph.URL))
	d, _ := startDaemon(t, cfg)

	get := func(path string, token bool) (int, string) {
		if token {
			return httpGet(t, d.httpAddr, path)
		}
		return httpGetToken(t, d.httpAddr, path, "")
	}
	code, body := get("/readyz", false)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"reason": "connectors starting"`) || strings.Contains(body, "facebook") {
		t.Fatalf("before the page's first poll: %d %s", code, body)
	}
	if code, body := get("/readyz?verbose", true); code != http.StatusServiceUnavailable || !strings.Contains(body, "facebook.111") {
		t.Fatalf("details: %d %s", code, body)
	}
	release <- struct{}{}
	testwait.Until(t, 10*time.Second, "the page's token to be rejected", func() bool {
		_, body := get("/v1/connectors", true)
		return strings.Contains(body, `"state": "unauthorized"`)
	})
	if code, body := get("/readyz", false); code != http.StatusOK {
		t.Fatalf("with a rejected page token: %d %s", code, body)
	}
}

// Without configured ops tokens the daemon generates one, and the ops
// endpoints take it.
func TestGeneratedOpsTokenOpensOpsEndpoints(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.HTTP.Ops.Tokens = nil
	d, _ := startDaemon(t, cfg)
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, "ops-token"))
	if err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]int{"": 401, strings.TrimSpace(string(tok)): 200, testOpsToken: 401, "t0ken": 401} {
		if code, _ := httpGetToken(t, d.httpAddr, "/metrics", token); code != want {
			t.Errorf("GET /metrics with %q: %d, want %d", token, code, want)
		}
	}
}

// A client that sends its body slowly is cut off at http.read_timeout
// instead of holding the connection.
func TestSlowBodyIsCutOff(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.HTTP.ReadTimeout = 1e9 // 1s
	d, _ := startDaemon(t, cfg)
	conn, err := net.Dial("tcp", d.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":")
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("a slow body got %s", resp.Status)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the connection was held %s", took)
	}
}
