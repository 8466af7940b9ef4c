package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// emailYAML wraps an accounts list (already indented for its place) in a
// config with the intake off, so that only email problems are reported.
func emailYAML(extra, accounts string) string {
	return "connectors:\n  intake:\n    enabled: false\n  email:\n    enabled: true\n" + extra + "    accounts:\n" + accounts
}

func TestEmailDefaults(t *testing.T) {
	y := emailYAML("", "      - name: support\n        host: imap.example.com\n        username: support@example.com\n        password: ${IMAP_PW}\n")
	cfg, err := Parse("c.yaml", []byte(y), env(map[string]string{"IMAP_PW": "pw-from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Connectors.Email.Accounts[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"tls", a.TLS, "implicit"},
		{"port", a.Port, 993},
		{"addr", a.Addr(), "imap.example.com:993"},
		{"mailboxes", fmt.Sprint(a.Mailboxes), "[INBOX]"},
		{"after_ingest", a.AfterIngest, "seen"},
		{"poll_interval", time.Duration(a.PollInterval), time.Minute},
		{"max_message_bytes", int64(a.MaxMessageBytes), int64(10 << 20)},
		{"max_text_bytes", int64(a.MaxTextBytes), int64(128 << 10)},
		{"trusted_authserv_ids", len(a.TrustedAuthservIDs), 0},
		{"backfill", a.BackfillDuration(), 24 * time.Hour},
		{"idle", a.UseIDLE(), true},
		{"password", a.Password.Reveal(), "pw-from-env"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestEmailExplicitValues(t *testing.T) {
	dir := secretFiles(t, map[string]string{"imap.pw": "pw-from-file\n"})
	y := emailYAML("    own_addresses: [switchboard@example.com, '@teams.example.com']\n",
		"      - name: billing\n        host: 127.0.0.1\n        tls: none\n        username: billing\n        password_file: imap.pw\n"+
			"        mailboxes: [INBOX, Laskut]\n        after_ingest: move\n        move_to: Archive/Switchboard\n"+
			"        idle: false\n        poll_interval: 30s\n        max_message_bytes: 1MiB\n        backfill: 0s\n        ingest_lists: true\n"+
			"        max_text_bytes: 64KiB\n        trusted_authserv_ids: [mx.example.com, '(none)']\n")
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Connectors.Email
	a := e.Accounts[0]
	if a.Port != 143 || a.UseIDLE() || a.BackfillDuration() != 0 || !a.IngestLists || a.MoveTo != "Archive/Switchboard" {
		t.Errorf("account = %+v", a)
	}
	if a.MaxTextBytes != 64<<10 || fmt.Sprint(a.TrustedAuthservIDs) != "[mx.example.com (none)]" {
		t.Errorf("max_text_bytes = %d, trusted_authserv_ids = %q", a.MaxTextBytes, a.TrustedAuthservIDs)
	}
	if a.Password.Reveal() != "pw-from-file" {
		t.Errorf("password from file = %q", a.Password.Reveal())
	}
	if len(e.OwnAddresses) != 2 || len(a.Mailboxes) != 2 {
		t.Errorf("own = %v, mailboxes = %v", e.OwnAddresses, a.Mailboxes)
	}
	if s := fmt.Sprintf("%+v %#v", cfg.Connectors.Email, a); strings.Contains(s, "pw-from-file") {
		t.Fatalf("password printed: %s", s)
	}
}

func TestEmailDisabledIsNotChecked(t *testing.T) {
	y := "connectors:\n  intake:\n    enabled: false\n  email:\n    accounts:\n      - name: BAD NAME\n"
	if _, err := Parse("c.yaml", []byte(y), noEnv); err != nil {
		t.Fatalf("disabled email section was validated: %v", err)
	}
}

func TestEmailErrors(t *testing.T) {
	const good = "        host: imap.example.com\n        username: u\n        password: p\n"
	tests := []struct {
		name, extra, accounts, want string
	}{
		{"no accounts", "", "      []\n", "c.yaml:7:7: the email connector is enabled but has no accounts"},
		{"bad name", "", "      - name: Support\n" + good, "c.yaml:7:15: account name \"Support\""},
		{"duplicate name", "", "      - name: a\n" + good + "      - name: a\n" + good, "c.yaml:11:15: account name \"a\" is used twice"},
		{"missing host", "", "      - name: a\n        username: u\n        password: p\n", "host \"\": want a host name"},
		{"host with port", "", "      - name: a\n        host: imap.example.com:993\n        username: u\n        password: p\n", "c.yaml:8:15: host \"imap.example.com:993\""},
		{"bad port", "", "      - name: a\n" + good + "        port: 70000\n", "c.yaml:11:15: port 70000"},
		{"bad tls", "", "      - name: a\n" + good + "        tls: ssl\n", "c.yaml:11:14: tls \"ssl\": use implicit, starttls or none"},
		{"tls none remote", "", "      - name: a\n" + good + "        tls: none\n", "c.yaml:11:14: tls: none sends the password in clear text"},
		{"ca_file without tls", "", "      - name: a\n        host: localhost\n        username: u\n        password: p\n        tls: none\n        ca_file: /ca.pem\n", "c.yaml:12:18: ca_file needs tls"},
		{"no username", "", "      - name: a\n        host: h\n        password: p\n", "username is required"},
		{"no password", "", "      - name: a\n        host: h\n        username: u\n", "needs a password"},
		{"mailbox twice", "", "      - name: a\n" + good + "        mailboxes: [INBOX, inbox]\n", "c.yaml:11:28: mailbox \"inbox\" is listed twice"},
		{"empty mailbox", "", "      - name: a\n" + good + "        mailboxes: ['']\n", "empty mailbox name"},
		{"bad action", "", "      - name: a\n" + good + "        after_ingest: delete\n", "c.yaml:11:23: after_ingest \"delete\""},
		{"move without folder", "", "      - name: a\n" + good + "        after_ingest: move\n", "after_ingest: move needs move_to"},
		{"move into watched", "", "      - name: a\n" + good + "        after_ingest: move\n        move_to: INBOX\n", "c.yaml:12:18: move_to \"INBOX\" is also a watched mailbox"},
		{"move_to without move", "", "      - name: a\n" + good + "        move_to: Done\n", "move_to needs after_ingest: move"},
		{"short poll", "", "      - name: a\n" + good + "        poll_interval: 10ms\n", "poll_interval must be at least 1s"},
		{"small max", "", "      - name: a\n" + good + "        max_message_bytes: 1KiB\n", "max_message_bytes must be between 64KiB and 100MiB"},
		{"huge max", "", "      - name: a\n" + good + "        max_message_bytes: 1GiB\n", "c.yaml:11:28: max_message_bytes must be between"},
		{"bad size", "", "      - name: a\n" + good + "        max_message_bytes: huge\n", "c.yaml:11:28: invalid size"},
		{"negative backfill", "", "      - name: a\n" + good + "        backfill: -1h\n", "backfill cannot be negative"},
		{"small text cap", "", "      - name: a\n" + good + "        max_text_bytes: 1KiB\n", "c.yaml:11:25: max_text_bytes must be between 16KiB and 1MiB"},
		{"huge text cap", "", "      - name: a\n" + good + "        max_text_bytes: 2MiB\n", "max_text_bytes must be between"},
		{"authserv-id with a space", "", "      - name: a\n" + good + "        trusted_authserv_ids: ['mx.example.com 1']\n", "c.yaml:11:32: trusted authserv-id \"mx.example.com 1\""},
		{"empty authserv-id", "", "      - name: a\n" + good + "        trusted_authserv_ids: ['']\n", "trusted authserv-id \"\""},
		{"bad own address", "    own_addresses: [not-an-address]\n", "      - name: a\n" + good, "c.yaml:6:21: own address \"not-an-address\""},
		{"bad own domain", "", "      - name: a\n" + good + "        own_addresses: ['@']\n", "own address \"@\""},
		{"unknown key", "", "      - name: a\n" + good + "        folder: x\n", "unknown field \"folder\""},
		{"password and file", "", "      - name: a\n" + good + "        password_file: /x\n", "set password or password_file, not both"},
		{"sent watched", "", "      - name: a\n" + good + "        mailboxes: [INBOX, Archive]\n        sent_mailbox: Archive\n", "c.yaml:12:23: sent_mailbox \"Archive\" is also a watched mailbox"},
		{"sent is inbox", "", "      - name: a\n" + good + "        sent_mailbox: inbox\n", "sent_mailbox \"inbox\" is also a watched mailbox"},
		{"sent is move_to", "", "      - name: a\n" + good + "        after_ingest: move\n        move_to: Done\n        sent_mailbox: Done\n", "sent_mailbox \"Done\" is also move_to"},
		{"blank sent", "", "      - name: a\n" + good + "        sent_mailbox: ' '\n", "empty sent_mailbox"},
		{"watching Sent", "", "      - name: a\n" + good + "        mailboxes: [INBOX, Sent Items]\n", "c.yaml:11:28: mailbox \"Sent Items\" looks like the Sent folder"},
		{"watching Gmail's Sent", "", "      - name: a\n" + good + "        mailboxes: ['[Gmail]/Sent Mail']\n", "set sent_mailbox: \"[Gmail]/Sent Mail\" instead"},
		{"watching a nested Sent", "", "      - name: a\n" + good + "        mailboxes: [INBOX.Lähetetyt]\n", "looks like the Sent folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(emailYAML(tt.extra, tt.accounts)), noEnv)
			wantError(t, err, tt.want)
		})
	}
}

func TestEmailSentMailbox(t *testing.T) {
	const good = "      - name: a\n        host: imap.example.com\n        username: u\n        password: p\n"
	tests := []struct{ yaml, want string }{
		{"", ""},
		{"        sent_mailbox: auto\n", "auto"},
		{"        sent_mailbox: '[Gmail]/Sent Mail'\n", "[Gmail]/Sent Mail"},
		{"        sent_mailbox: Sent\n        mailboxes: [INBOX, Sentiments]\n", "Sent"},
	}
	for _, tt := range tests {
		cfg, err := Parse("c.yaml", []byte(emailYAML("", good+tt.yaml)), noEnv)
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		if got := cfg.Connectors.Email.Accounts[0].SentMailbox; got != tt.want {
			t.Errorf("%q: sent_mailbox = %q, want %q", tt.yaml, got, tt.want)
		}
	}
}
