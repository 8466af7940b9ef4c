package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/config"
)

func TestBuildFacebook(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "page2.token")
	if err := os.WriteFile(tokFile, []byte("EAA-two-v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	y := `connectors:
  intake: {enabled: false}
  facebook:
    webhook:
      enabled: true
      path: /hooks/fb
      verify_token: vt
      app_secret: sekret
    pages:
      - id: "111"
        token: EAA-one
      - id: "222"
        name: Tuki
        token_file: page2.token
        ingest: [messages]
`
	cfg, err := config.Parse(filepath.Join(dir, "config.yaml"), []byte(y), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	mounted := map[string]http.Handler{}
	reg := prometheus.NewRegistry()
	conns, err := buildFacebook(wireDeps{cfg: cfg, log: zap.NewNop(), metrics: reg,
		handle: func(p string, h http.Handler) { mounted[p] = h }})
	if err != nil {
		t.Fatal(err)
	}
	if len(conns) != 2 || conns[0].Name() != "facebook.111" || conns[1].Name() != "facebook.222" {
		t.Fatalf("connectors %v", conns)
	}
	h := mounted["/hooks/fb"]
	if h == nil || len(mounted) != 1 {
		t.Fatalf("mounted %v", mounted)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hooks/fb?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42", nil))
	if rec.Code != 200 || rec.Body.String() != "42" {
		t.Fatalf("handshake through the mounted receiver: %d %q", rec.Code, rec.Body)
	}
	// A signed notification through the mounted receiver is accepted with
	// the configured app secret.
	body := fmt.Sprintf(`{"object":"page","entry":[{"id":"111","time":%d,"changes":[]}]}`, time.Now().Unix())
	mac := hmac.New(sha256.New, []byte("sekret"))
	mac.Write([]byte(body))
	req := httptest.NewRequest(http.MethodPost, "/hooks/fb", strings.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "EVENT_RECEIVED" {
		t.Fatalf("signed notification through the mounted receiver: %d %q", rec.Code, rec.Body)
	}
	// The token file is read again on every start of the poller.
	src := tokenSource(cfg.Connectors.Facebook.Pages[1])
	if tok, err := src(); err != nil || tok != "EAA-two-v1" {
		t.Fatalf("token %q, %v", tok, err)
	}
	if err := os.WriteFile(tokFile, []byte("EAA-two-v2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, _ := src(); tok != "EAA-two-v2" {
		t.Fatalf("rotated token not picked up: %q", tok)
	}
	if err := os.Remove(tokFile); err != nil {
		t.Fatal(err)
	}
	if _, err := src(); err == nil || !strings.Contains(err.Error(), "token_file") {
		t.Fatalf("missing token file: %v", err)
	}

	// Nothing configured: no connectors, nothing mounted, no metrics.
	empty := config.Default()
	conns, err = buildFacebook(wireDeps{cfg: &empty, log: zap.NewNop(), metrics: prometheus.NewRegistry(),
		handle: func(string, http.Handler) { t.Fatal("mounted without pages") }})
	if err != nil || conns != nil {
		t.Fatalf("empty config: %v %v", conns, err)
	}
}
