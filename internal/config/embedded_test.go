package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

func TestEmbeddedValidation(t *testing.T) {
	const token = "connectors:\n  intake:\n    token: t\n"
	tests := []struct {
		name, yaml, want string // want "": valid
	}{
		{"loopback", "nats:\n  embedded:\n    listen: 127.0.0.1:14222\n", ""},
		{"localhost", "nats:\n  embedded:\n    listen: localhost:14222\n", ""},
		{"ipv6 loopback", "nats:\n  embedded:\n    listen: '[::1]:14222'\n", ""},
		{"off", "nats:\n  embedded:\n    listen: ''\n", ""},
		{"all interfaces", "nats:\n  embedded:\n    listen: 0.0.0.0:14222\n", "c.yaml:3:13: embedded listen \"0.0.0.0:14222\" is reachable from other hosts"},
		{"no host", "nats:\n  embedded:\n    listen: ':14222'\n", "is reachable from other hosts"},
		{"lan address", "nats:\n  embedded:\n    listen: 10.0.0.5:14222\n", "set nats.embedded.tls.cert_file and key_file"},
		{"lan with tls", "nats:\n  embedded:\n    listen: 10.0.0.5:14222\n    tls:\n      cert_file: c.pem\n      key_file: k.pem\n", ""},
		{"tls half", "nats:\n  embedded:\n    listen: 10.0.0.5:14222\n    tls:\n      cert_file: c.pem\n", "tls cert_file and key_file go together"},
		{"not host:port", "nats:\n  embedded:\n    listen: localhost\n", "want host:port, or empty"},
		{"external ignores embedded", "nats:\n  url: nats://n:4222\n  embedded:\n    listen: 0.0.0.0:14222\n", ""},
		{"no cap", "nats:\n  embedded:\n    max_store: -1\n", ""},
		{"cap", "nats:\n  embedded:\n    max_store: 10GiB\n", ""},
		{"zero", "nats:\n  embedded:\n    max_store: 0\n", "c.yaml:3:16: max_store must be -1 (no cap) or at least 1MiB"},
		{"tiny", "nats:\n  embedded:\n    max_store: 4KiB\n", "at least 1MiB"},
		{"streams fit", "nats:\n  embedded:\n    max_store: 10MiB\nstreams:\n  ingest:\n    max_bytes: 4MiB\n  team:\n    max_bytes: 4MiB\n", ""},
		{"streams do not fit", "nats:\n  embedded:\n    max_store: 10MiB\nstreams:\n  ingest:\n    max_bytes: 8MiB\n  team:\n    max_bytes: 4MiB\n",
			"max_store (10485760 bytes) is smaller than the streams' max_bytes together (12582912 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml+token), noEnv)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			wantError(t, err, tt.want)
		})
	}
}

func TestTeamWorkers(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	worker := func(team, key string) string {
		return fmt.Sprintf("      - team: %s\n        nkey: %s\n", team, key)
	}
	const head = "nats:\n  embedded:\n    team_workers:\n"
	const token = "connectors:\n  intake:\n    token: t\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"valid", head + worker("billing", pub), ""},
		{"seed instead of public key", head + worker("billing", string(seed)), "c.yaml:5:15: nkey: want the worker's public user NKey"},
		{"bad team", head + worker("Billing Team", pub), "c.yaml:4:15: team \"Billing Team\""},
		{"one key, two teams", head + worker("billing", pub) + worker("sales", pub), "c.yaml:7:15: nkey is given to another team worker already"},
		{"no listener", "nats:\n  embedded:\n    listen: ''\n    team_workers:\n" + worker("billing", pub), "set nats.embedded.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("c.yaml", []byte(tt.yaml+token), noEnv)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if w := cfg.NATS.Embedded.TeamWorkers; len(w) != 1 || w[0].Team != "billing" || w[0].NKey != pub {
					t.Fatalf("team workers %+v", w)
				}
				return
			}
			wantError(t, err, tt.want)
			if strings.Contains(err.Error(), string(seed)) {
				t.Fatalf("the error shows a seed: %v", err)
			}
		})
	}
}
