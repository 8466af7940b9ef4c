package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const strongToken = "0123456789abcdef0123"

func TestListenURLAndTokenChecks(t *testing.T) {
	intake := func(listen, token string) string {
		return "http: {listen: '" + listen + "'}\nconnectors:\n  intake: {token: '" + token + "'}\n"
	}
	tests := []struct {
		name, yaml, want string // want "" means valid
	}{
		{"loopback with the default token", intake("127.0.0.1:7480", "change-me"), ""},
		{"localhost with a short token", intake("localhost:7480", "x"), ""},
		{"all interfaces with the default token", intake("0.0.0.0:7480", "change-me"), "c.yaml:3:19: the intake token is the shipped default or shorter than 16"},
		{"empty host with a one-character token", intake(":7480", "x"), "reachable from other hosts"},
		{"all interfaces with a strong token", intake("0.0.0.0:7480", strongToken), ""},
		{"port out of range", intake("127.0.0.1:70000", strongToken), `c.yaml:1:16: http listen "127.0.0.1:70000": the port must be a number from 0 to 65535`},
		{"port not a number", intake("127.0.0.1:http", strongToken), "the port must be a number"},
		{"no port", intake("127.0.0.1", strongToken), `want host:port`},
		{"zero read timeout", "http: {read_timeout: 0s}\n" + intake("127.0.0.1:1", strongToken)[len("http: {listen: '127.0.0.1:1'}\n"):], "read_timeout must be positive"},
		{"negative concurrency", "connectors:\n  intake: {token: t, max_concurrent: -1}\n", "c.yaml:2:38: max_concurrent must be 0"},
		{"embedded port out of range", "nats: {embedded: {listen: '127.0.0.1:99999'}}\nconnectors: {intake: {token: t}}\n", "embedded listen \"127.0.0.1:99999\": the port must be"},
		{"nats url scheme", "nats: {url: 'http://nats:4222'}\nconnectors: {intake: {token: t}}\n", "nats url: the scheme must be nats, tls, ws or wss"},
		{"nats url second of a cluster", "nats: {url: 'nats://a:4222, nats://b:99999'}\nconnectors: {intake: {token: t}}\n", "nats url: the port must be a number from 1 to 65535"},
		{"nats cluster", "nats: {url: 'nats://a:4222,nats://b:4222'}\nconnectors: {intake: {token: t}}\n", ""},
		{"redis url port", "delivery: {redis: {url: 'redis://:pw@h:0/0'}}\nconnectors: {intake: {token: t}}\n", "redis url: the port must be a number from 1 to 65535"},
		{"webhook allowed hosts", "delivery: {webhook: {allowed_hosts: [hooks.slack.com, '*.example.com', '::1']}}\nconnectors: {intake: {token: t}}\n", ""},
		{"webhook allowed host with scheme", "delivery: {webhook: {allowed_hosts: ['https://hooks.slack.com']}}\nconnectors: {intake: {token: t}}\n", `c.yaml:1:38: allowed host "https://hooks.slack.com": want a host name`},
		{"log format auto", "log: {format: auto}\nconnectors: {intake: {token: t}}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml), noEnv)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error:\n%v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("no error; want %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error:\n%v\nwant it to contain %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "change-me") {
				t.Fatalf("the error repeats the token: %v", err)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name, listen, token string
		warn                bool
	}{
		{"default token on loopback", "127.0.0.1:7480", "change-me", true},
		{"short token on loopback", "[::1]:7480", "t0ken", true},
		{"strong token", "127.0.0.1:7480", strongToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte("http: {listen: '"+tt.listen+"'}\nconnectors: {intake: {token: '"+tt.token+"'}}\n"), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			w := cfg.Warnings()
			if got := len(w) > 0; got != tt.warn {
				t.Fatalf("warnings %q, want some: %v", w, tt.warn)
			}
			if strings.Contains(strings.Join(w, ""), tt.token) {
				t.Fatalf("a warning repeats the token: %q", w)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte("connectors: {intake: {token: t}}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Format != LogFormatAuto || !cfg.Connectors.X.Mentions || cfg.Connectors.Intake.MaxConcurrent != DefaultIntakeMaxConcurrent ||
		cfg.HTTP.ReadTimeout <= 0 || cfg.HTTP.WriteTimeout <= 0 || cfg.HTTP.IdleTimeout <= 0 {
		t.Fatalf("defaults: log %q, x.mentions %v, intake %+v, http %+v", cfg.Log.Format, cfg.Connectors.X.Mentions, cfg.Connectors.Intake, cfg.HTTP)
	}
}

// The container's configuration stays valid, and refuses a weak intake
// token: it listens on every interface.
func TestContainerConfig(t *testing.T) {
	path := filepath.Join("..", "..", "deploy", "container", "config.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(path, data, env(map[string]string{"SWITCHBOARD_INTAKE_TOKEN": strongToken})); err != nil {
		t.Fatalf("with a strong intake token: %v", err)
	}
	if _, err := Parse(path, data, env(map[string]string{"SWITCHBOARD_INTAKE_TOKEN": "change-me"})); err == nil || !strings.Contains(err.Error(), "reachable from other hosts") {
		t.Fatalf("with the default token: %v", err)
	}
}
