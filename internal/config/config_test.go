package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// secretFiles writes each file (name to content) into a new temporary
// directory, for configs that read secrets from files, and returns it.
func secretFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wantError fails t unless err is an error that contains want.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error:\n%v\nwant it to contain %q", err, want)
	}
}

func TestShippedConfigIsValid(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatalf("shipped config.yaml: %v", err)
	}
	if cfg.NATS.URL != "" {
		t.Fatalf("default must embed NATS, got url %q", cfg.NATS.URL)
	}
	if cfg.NATS.Embedded.Listen == "127.0.0.1:4222" {
		t.Fatal("embedded port must not clash with a NATS server on 4222")
	}
	if time.Duration(cfg.Streams.Ingest.DuplicateWindow) < 24*time.Hour {
		t.Fatal("ingest duplicate window below 24h")
	}
	if !filepath.IsAbs(cfg.Router.RulesFile) || !filepath.IsAbs(cfg.DataDir) {
		t.Fatalf("paths not resolved against the config file: %q %q", cfg.Router.RulesFile, cfg.DataDir)
	}
}

func TestParseErrorsHavePositions(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "log:\n  format: json\n  colour: red\n", "c.yaml:3:3: unknown field \"colour\""},
		{"syntax", "log:\n  format: [json\n", "c.yaml:2:"},
		{"bad duration", "router:\n  ack_wait: forever\n", "c.yaml:2:13: invalid duration \"forever\""},
		{"bad size", "connectors:\n  intake:\n    max_body_bytes: lots\n", "c.yaml:3:21: invalid size"},
		{"wrong type", "router:\n  workers: many\n", "c.yaml:2:"},
		{"bad value", "log:\n  format: xml\n", "c.yaml:2:11: log format \"xml\""},
		{"unset env", "nats:\n  url: ${NOPE}\n", "c.yaml:2:8: environment variable NOPE is not set"},
		{"short dup window", "streams:\n  ingest:\n    duplicate_window: 1h\n", "c.yaml:3:23: ingest duplicate_window must be at least 24h"},
		{"both secret and file", "connectors:\n  intake:\n    token: a\n    token_file: /x\n", "c.yaml:3:12: set token or token_file, not both"},
		{"missing secret file", "connectors:\n  intake:\n    token: ''\n    token_file: /nonexistent/tok\n", "c.yaml:4:17: reading token_file"},
		{"replicas embedded", "streams:\n  replicas: 3\n", "c.yaml:2:13: replicas 3 needs an external NATS cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml), env(map[string]string{"X": "1"}))
			wantError(t, err, tt.want)
		})
	}
}

func TestIntakeNeedsToken(t *testing.T) {
	_, err := Parse("c.yaml", []byte("log:\n  level: info\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "needs a bearer token") {
		t.Fatalf("want token error, got %v", err)
	}
}

func TestEnvAndSecretFile(t *testing.T) {
	dir := secretFiles(t, map[string]string{"tok": "s3cret-from-file\n"})
	y := "nats:\n  url: ${NATS_URL}\n  token_file: tok\nconnectors:\n  intake:\n    token: ${TOK:-fallback}\n"
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), env(map[string]string{"NATS_URL": "nats://h:4222"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NATS.URL != "nats://h:4222" {
		t.Errorf("url = %q", cfg.NATS.URL)
	}
	if cfg.NATS.Token.Reveal() != "s3cret-from-file" {
		t.Errorf("token from file = %q", cfg.NATS.Token.Reveal())
	}
	if cfg.Connectors.Intake.Token.Reveal() != "fallback" {
		t.Errorf("default expansion = %q", cfg.Connectors.Intake.Token.Reveal())
	}
	// Secrets never print.
	out := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg.NATS, cfg.NATS.Token)
	b, _ := json.Marshal(cfg)
	for _, s := range []string{out, string(b)} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "fallback") {
			t.Fatalf("secret leaked: %s", s)
		}
	}
}
