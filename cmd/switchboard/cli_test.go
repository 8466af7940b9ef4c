package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/cli"
)

// Every command and group answers -h, --help and "help" with its help on
// stdout and exit 0, and says nothing on stderr.
func TestEveryCommandHelp(t *testing.T) {
	names := []string{"switchboard"}
	commands().Walk(func(name string, _ cli.Command) { names = append(names, name) })
	if len(names) < 15 {
		t.Fatalf("walked only %q", names)
	}
	for _, name := range names {
		for _, flag := range []string{"-h", "--help"} {
			t.Run(name+" "+flag, func(t *testing.T) {
				args := append(strings.Fields(name)[1:], flag)
				var out, errOut bytes.Buffer
				if code := dispatch(context.Background(), args, &out, &errOut); code != 0 {
					t.Fatalf("exit %d; stderr %q", code, errOut.String())
				}
				if errOut.Len() > 0 || !strings.Contains(out.String(), "sage") {
					t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
				}
			})
		}
	}
}

func TestVersionCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := dispatch(context.Background(), []string{"version"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "switchboard ") || !strings.Contains(out.String(), "commit ") || !strings.Contains(out.String(), "built with go") {
		t.Fatalf("version printed %q", out.String())
	}
}

func TestConfigCheckRulesAndTargets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("rules.yaml", testRules)
	write("broken.yaml", "default_team: triage\nroutes:\n  - id: x\n    team: nobody\n")
	write("redis.yaml", "default_team: triage\nteams:\n  - name: triage\n    targets: [{type: redis}]\n")
	write("hook.yaml", "default_team: triage\nteams:\n  - name: triage\n    targets: [{type: webhook, url: 'https://evil.example.net/SECRETPATH'}]\n")
	cfg := func(name, extra string) string {
		return write(name, "connectors: {intake: {token: t0ken}}\n"+extra)
	}
	tests := []struct {
		name, file string
		code       int
		stdout     string
		stderr     []string
	}{
		{"valid, with the weak token warned", cfg("ok.yaml", ""), 0, "ok.yaml: ok; rules " + filepath.Join(dir, "rules.yaml") + ": version", []string{"warning: connectors.intake.token is the shipped default or shorter than 16"}},
		{"rules file missing", cfg("missing.yaml", "router: {rules_file: nope.yaml}\n"), 1, "", []string{"missing.yaml: router.rules_file: " + filepath.Join(dir, "nope.yaml") + " does not exist"}},
		{"rules do not parse", cfg("broken-cfg.yaml", "router: {rules_file: broken.yaml}\n"), 1, "", []string{"the rules do not load", filepath.Join(dir, "broken.yaml") + ":4:11: unknown team"}},
		{"redis target without redis", cfg("redis-cfg.yaml", "router: {rules_file: redis.yaml}\n"), 1, "", []string{"delivery.redis.url is not set"}},
		{"webhook host not allowed", cfg("hook-cfg.yaml", "router: {rules_file: hook.yaml}\ndelivery: {webhook: {allowed_hosts: [hooks.slack.com]}}\n"), 1, "", []string{"evil.example.net", "delivery.webhook.allowed_hosts"}},
		{"bad port", cfg("port.yaml", "http: {listen: '127.0.0.1:123456'}\n"), 1, "", []string{"port.yaml:2:16: http listen \"127.0.0.1:123456\": the port must be"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := dispatch(context.Background(), []string{"config", "check", tt.file}, &out, &errOut)
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) {
				t.Fatalf("exit %d (want %d), stdout %q (want %q), stderr:\n%s", code, tt.code, out.String(), tt.stdout, errOut.String())
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
			if strings.Contains(out.String()+errOut.String(), "SECRETPATH") || strings.Contains(out.String()+errOut.String(), "t0ken") {
				t.Errorf("a secret was printed:\n%s%s", out.String(), errOut.String())
			}
		})
	}
}
