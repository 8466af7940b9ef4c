package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// opsBase is a valid file the ops tests add an http.ops section to.
const opsBase = "connectors:\n  intake:\n    token: intake-token-0123456789\n"

func TestOpsDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(opsBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.HTTP.Ops
	if len(o.Tokens) != 0 || time.Duration(o.SessionTTL) != 12*time.Hour {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestOpsTokens(t *testing.T) {
	dir := secretFiles(t, map[string]string{"ro": "read-only-token-from-file\n"})
	y := opsBase + `http:
  ops:
    session_ttl: 1h
    tokens:
      - name: alice
        role: admin
        token: ${OPS_TOKEN}
      - name: grafana
        token_file: ro
`
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), env(map[string]string{"OPS_TOKEN": "admin-token-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.HTTP.Ops
	if len(o.Tokens) != 2 || o.Tokens[0].Role != OpsRoleAdmin || o.Tokens[0].Token.Reveal() != "admin-token-0123456789" {
		t.Fatalf("first token: %+v", o.Tokens)
	}
	if o.Tokens[1].Role != OpsRoleReadOnly || o.Tokens[1].Token.Reveal() != "read-only-token-from-file" {
		t.Fatalf("a token without a role is read-only, read from its file: %+v", o.Tokens[1])
	}
	if time.Duration(o.SessionTTL) != time.Hour {
		t.Fatalf("session_ttl %s", o.SessionTTL)
	}
}

func TestOpsErrors(t *testing.T) {
	const secret = "supersecret-0123456789"
	tests := []struct{ name, yaml, want string }{
		{"no name", "http:\n  ops:\n    tokens:\n      - token: " + secret + "\n", "c.yaml:7:9: an ops token needs a name"},
		{"bad name", "http:\n  ops:\n    tokens:\n      - {name: 'a b', token: " + secret + "}\n", `ops token name "a b"`},
		{"same name", "http:\n  ops:\n    tokens:\n      - {name: a, token: " + secret + "}\n      - {name: a, token: " + secret + "x}\n", `ops token name "a" is used twice`},
		{"bad role", "http:\n  ops:\n    tokens:\n      - {name: a, role: root, token: " + secret + "}\n", `ops token role "root": use admin or read-only`},
		{"empty", "http:\n  ops:\n    tokens:\n      - {name: a}\n", "ops token a is empty"},
		{"short", "http:\n  ops:\n    tokens:\n      - {name: a, token: hunter2}\n", "ops token a is shorter than 16 characters"},
		{"repeated", "http:\n  ops:\n    tokens:\n      - {name: a, token: " + secret + "}\n      - {name: b, token: " + secret + "}\n", "ops token b repeats another ops token"},
		{"intake's", "http:\n  ops:\n    tokens:\n      - {name: a, token: intake-token-0123456789}\n", "ops token a is the intake token"},
		{"ttl", "http:\n  ops:\n    session_ttl: 1m\n", "session_ttl must be between 5m and 30d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(opsBase+tt.yaml), noEnv)
			wantError(t, err, tt.want)
			for _, s := range []string{secret, "hunter2", "intake-token-0123456789"} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error repeats a token: %v", err)
				}
			}
		})
	}
}
