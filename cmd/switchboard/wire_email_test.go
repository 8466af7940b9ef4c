package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/switchboard/switchboard/internal/config"
)

type imapLiteral struct{ *bytes.Reader }

// emailSection is the connectors.email section of a test configuration:
// one account, tuki, reading the test IMAP server at host:port without TLS
// as username with password (as written in YAML), every poll.
func emailSection(host, port, username, password, poll string) string {
	return fmt.Sprintf(`  email:
    enabled: true
    own_addresses: ["@teams.yritys.fi"]
    accounts:
      - name: tuki
        host: %s
        port: %s
        tls: none
        username: %s
        password: %s
        poll_interval: %s
`, host, port, username, password, poll)
}

// TestEndToEndEmailToTeamQueue runs the daemon against an in-process IMAP
// server: a customer's reply is read and routed to the team queue with its
// thread id and new text, an auto-reply is dropped, and the account shows in
// /v1/connectors and /metrics.
func TestEndToEndEmailToTeamQueue(t *testing.T) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("tuki@yritys.fi", "imap-pw-123")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	deliver := func(raw string) {
		raw = strings.ReplaceAll(raw, "\n", "\r\n")
		if _, err := user.Append("INBOX", imapLiteral{bytes.NewReader([]byte(raw))}, &imap.AppendOptions{Time: time.Now().Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	deliver("From: Matti <matti@example.fi>\nTo: tuki@yritys.fi\nSubject: Re: Tilaus\nMessage-ID: <reply-1@example.fi>\n" +
		"In-Reply-To: <root-1@yritys.fi>\nReferences: <root-1@yritys.fi>\nDate: " + time.Now().Format(time.RFC1123Z) + "\n\n" +
		"Laskussa on virhe.\n\nOn Mon, 3 Feb 2014 Tuki <tuki@yritys.fi> wrote:\n> Paketti on matkalla.\n")
	deliver("From: Kalle <kalle@example.fi>\nSubject: Automaattinen vastaus: Lasku\nMessage-ID: <oof-1@example.fi>\n\nOlen lomalla.\n")

	_, path := testConfig(t)
	// Own rules, independent of the shared test rules: everything goes to
	// the default team.
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "rules.yaml"), []byte("default_team: triage\nteams:\n  - name: triage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	t.Setenv("TEST_IMAP_PW", "imap-pw-123")
	cfg := withConfig(t, path, emailSection(host, port, "tuki@yritys.fi", "${TEST_IMAP_PW}", "1h"))
	d, _ := startDaemon(t, cfg)

	got := teamItems(t, cfg, "triage", 1)
	if len(got) != 1 || got[0].ID != "email:reply-1@example.fi" || got[0].ThreadID != "root-1@yritys.fi" || got[0].Text != "Laskussa on virhe." {
		t.Fatalf("triage got %+v", got)
	}
	get := func(path string) string {
		t.Helper()
		_, body := httpGet(t, d.httpAddr, path)
		return body
	}
	if s := get("/v1/connectors"); !strings.Contains(s, `"email.tuki"`) || strings.Contains(s, "imap-pw-123") {
		t.Errorf("connectors:\n%s", s)
	}
	if m := get("/metrics"); !strings.Contains(m, `switchboard_email_dropped_total{account="tuki",reason="auto_reply"} 1`) {
		t.Errorf("metrics lack the dropped auto-reply:\n%.3000s", m)
	}
}

func TestEmailTLSConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, caFile, want string
	}{
		{"system roots", "", ""},
		{"missing file", filepath.Join(dir, "nope.pem"), "reading ca_file"},
		{"not pem", bad, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := emailTLS(config.EmailAccount{Name: "a", CAFile: tt.caFile})
			if tt.want == "" {
				if err != nil || cfg != nil {
					t.Fatalf("got %v, %v; want nil, nil", cfg, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
