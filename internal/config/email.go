package config

import (
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/loopback"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Email configures the IMAP email connector (connectors/email, docs/email.md).
// Each account runs as one connector named "email.<account>", with one IMAP
// connection per watched mailbox.
type Email struct {
	// Enabled turns the email connector on.
	Enabled bool `yaml:"enabled"`
	// OwnAddresses are Switchboard's own and the teams' addresses. Mail from
	// them is dropped, so that Switchboard never ingests its own or a team's
	// mail (no loops). An entry "@example.com" matches a whole domain. Each
	// account adds its own list, and its username when that is an address.
	OwnAddresses []string `yaml:"own_addresses"`
	// Accounts are the IMAP accounts to watch.
	Accounts []EmailAccount `yaml:"accounts"`
}

// EmailAccount is one IMAP login and the mailboxes watched with it.
type EmailAccount struct {
	// Name identifies the account in the connector name ("email.<name>"),
	// metrics and envelope metadata: lowercase letters, digits, '-' or '_'.
	Name string `yaml:"name"`
	// Host is the IMAP server's host name or IP address.
	Host string `yaml:"host"`
	// Port defaults to 993 for tls: implicit and to 143 otherwise.
	Port int `yaml:"port"`
	// TLS is implicit (default, port 993), starttls, or none. none is only
	// allowed for a loopback host (a local test server or a local proxy).
	TLS string `yaml:"tls"`
	// CAFile is a PEM bundle of CAs to trust instead of the system's (a
	// private mail server's CA).
	CAFile string `yaml:"ca_file"`
	// Username logs in.
	Username string `yaml:"username"`
	// Password logs in; ${ENV} or password_file keep it out of the file.
	Password     secret.Secret `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
	// Mailboxes to watch (default [INBOX]).
	Mailboxes []string `yaml:"mailboxes"`
	// AfterIngest is what happens to a mail once JetStream acked it: seen
	// (default) sets \Seen, move moves it to MoveTo, none leaves it alone.
	AfterIngest string `yaml:"after_ingest"`
	// MoveTo is the folder for after_ingest: move; it is created if missing.
	MoveTo string `yaml:"move_to"`
	// IDLE waits for new mail with IMAP IDLE when the server supports it
	// (default true); false polls every poll_interval.
	IDLE *bool `yaml:"idle"`
	// PollInterval is how often the mailbox is checked when polling, and the
	// safety-net check while idling (default 1m).
	PollInterval yamlfile.Duration `yaml:"poll_interval"`
	// MaxMessageBytes caps how much of one mail is fetched (default 10MiB,
	// 64KiB to 100MiB); a bigger mail is ingested with its headers and a
	// truncated body, and flagged "truncated".
	MaxMessageBytes yamlfile.ByteSize `yaml:"max_message_bytes"`
	// MaxTextBytes caps the readable text made from one mail (default
	// 128KiB, 16KiB to 1MiB): HTML to text and every other text
	// transformation stop there, and the mail is flagged "text_truncated".
	// The envelope is a routing item; the whole mail stays in the mailbox.
	MaxTextBytes yamlfile.ByteSize `yaml:"max_text_bytes"`
	// TrustedAuthservIDs are the authserv-ids of the receiving mail servers
	// whose Authentication-Results headers (SPF, DKIM, DMARC verdicts) are
	// recorded in the envelope metadata; headers of other ids are ignored,
	// as anyone can write them. "(none)" trusts headers without an id, as
	// Microsoft 365 writes them. Empty: no verdict is recorded.
	TrustedAuthservIDs []string `yaml:"trusted_authserv_ids"`
	// Backfill is how far back the first start reaches: mail that arrived
	// within it is ingested (only unseen mail with after_ingest: seen). 0
	// starts with mail arriving from now on. Default 24h.
	Backfill *yamlfile.Duration `yaml:"backfill"`
	// SentMailbox is the mailbox the account's sent mail is kept in
	// ("Sent", "Sent Items", "[Gmail]/Sent Mail"), or "auto" for the one
	// the server marks \Sent (SPECIAL-USE). When the daemon tracks
	// responses, it is read read-only (EXAMINE, headers only) over its own
	// connection, and every reply in it becomes a response to the mail it
	// answers. Empty (default): replies by mail are not detected.
	SentMailbox string `yaml:"sent_mailbox"`
	// IngestLists ingests mailing-list and bulk mail (List-Id, Precedence:
	// bulk|list|junk), which is dropped by default.
	IngestLists bool `yaml:"ingest_lists"`
	// OwnAddresses adds addresses (or "@domain") whose mail this account
	// drops, to the email-wide list.
	OwnAddresses []string `yaml:"own_addresses"`
}

// Defaults and limits of account fields.
const (
	defaultEmailPollInterval = time.Minute
	defaultEmailMaxMessage   = 10 << 20
	minEmailMaxMessage       = 64 << 10
	maxEmailMaxMessage       = 100 << 20
	defaultEmailMaxText      = 128 << 10
	minEmailMaxText          = 16 << 10
	maxEmailMaxText          = 1 << 20
	defaultEmailBackfill     = 24 * time.Hour
)

// UseIDLE reports whether the account waits with IMAP IDLE (the default).
func (a *EmailAccount) UseIDLE() bool { return a.IDLE == nil || *a.IDLE }

// BackfillDuration is the first-start backfill window (default 24h).
func (a *EmailAccount) BackfillDuration() time.Duration {
	if a.Backfill == nil {
		return defaultEmailBackfill
	}
	return time.Duration(*a.Backfill)
}

// Addr is the account's host:port.
func (a *EmailAccount) Addr() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// setDefaults fills in omitted account fields.
func (a *EmailAccount) setDefaults() {
	if a.TLS == "" {
		a.TLS = "implicit"
	}
	if a.Port == 0 {
		if a.TLS == "implicit" {
			a.Port = 993
		} else {
			a.Port = 143
		}
	}
	if len(a.Mailboxes) == 0 {
		a.Mailboxes = []string{"INBOX"}
	}
	if a.AfterIngest == "" {
		a.AfterIngest = "seen"
	}
	if a.PollInterval == 0 {
		a.PollInterval = yamlfile.Duration(defaultEmailPollInterval)
	}
	if a.MaxMessageBytes == 0 {
		a.MaxMessageBytes = defaultEmailMaxMessage
	}
	if a.MaxTextBytes == 0 {
		a.MaxTextBytes = defaultEmailMaxText
	}
}

// validate fills in defaults for omitted account fields, then reports
// problems in the email section at p.
func (c *Email) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {
	for i, own := range c.OwnAddresses {
		validOwnAddress(p.Child("own_addresses").Child(i), own, report)
	}
	if !c.Enabled {
		return
	}
	if len(c.Accounts) == 0 {
		report(p.Child("accounts"), "the email connector is enabled but has no accounts")
	}
	names := map[string]bool{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		a.setDefaults()
		a.validate(p.Child("accounts").Child(i), names, report)
	}
}

// validate reports problems in one account at ap; names holds the account
// names seen so far.
func (a *EmailAccount) validate(ap yamlfile.Path, names map[string]bool, report func(yamlfile.Path, string, ...any)) {
	switch {
	case !message.ValidToken(a.Name):
		report(ap.Child("name"), "account name %q: use lowercase letters, digits, '-' or '_'", a.Name)
	case names[a.Name]:
		report(ap.Child("name"), "account name %q is used twice", a.Name)
	}
	names[a.Name] = true
	if a.Host == "" || strings.ContainsAny(a.Host, " /@") || (strings.Contains(a.Host, ":") && net.ParseIP(a.Host) == nil) {
		report(ap.Child("host"), "host %q: want a host name or IP address (the port goes in port:)", a.Host)
	}
	if a.Port < 1 || a.Port > 65535 {
		report(ap.Child("port"), "port %d: want 1-65535", a.Port)
	}
	switch a.TLS {
	case "implicit", "starttls":
	case "none":
		if !loopback.Is(a.Host) {
			report(ap.Child("tls"), "tls: none sends the password in clear text; it is only allowed for a loopback host, not %q", a.Host)
		}
		if a.CAFile != "" {
			report(ap.Child("ca_file"), "ca_file needs tls: implicit or starttls")
		}
	default:
		report(ap.Child("tls"), "tls %q: use implicit, starttls or none", a.TLS)
	}
	if a.Username == "" {
		report(ap.Child("username"), "username is required")
	}
	if a.Password == "" {
		report(ap.Child("password"), "the account needs a password (password: ${ENV_VAR} or password_file)")
	}
	watched := map[string]bool{}
	for j, mb := range a.Mailboxes {
		key := mailboxKey(mb)
		switch {
		case strings.TrimSpace(mb) == "":
			report(ap.Child("mailboxes").Child(j), "empty mailbox name")
		case watched[key]:
			report(ap.Child("mailboxes").Child(j), "mailbox %q is listed twice", mb)
		case looksSent(mb):
			report(ap.Child("mailboxes").Child(j),
				"mailbox %q looks like the Sent folder: the company's own mail is not customer mail; to detect the company's replies, set sent_mailbox: %q instead", mb, mb)
		}
		watched[key] = true
	}
	switch sent := a.SentMailbox; {
	case sent == "" || sent == "auto":
	case strings.TrimSpace(sent) == "":
		report(ap.Child("sent_mailbox"), "empty sent_mailbox: name the Sent folder, use auto, or leave the key out")
	case watched[mailboxKey(sent)]:
		report(ap.Child("sent_mailbox"), "sent_mailbox %q is also a watched mailbox; the company's replies would be ingested as customer mail", sent)
	case a.AfterIngest == "move" && mailboxKey(a.MoveTo) == mailboxKey(sent):
		report(ap.Child("sent_mailbox"), "sent_mailbox %q is also move_to; ingested customer mail would be taken for the company's replies", sent)
	}
	switch a.AfterIngest {
	case "seen", "none":
		if a.MoveTo != "" {
			report(ap.Child("move_to"), "move_to needs after_ingest: move")
		}
	case "move":
		switch {
		case strings.TrimSpace(a.MoveTo) == "":
			report(ap.Child("move_to"), "after_ingest: move needs move_to (the folder ingested mail goes to)")
		case watched[mailboxKey(a.MoveTo)]:
			report(ap.Child("move_to"), "move_to %q is also a watched mailbox; its mail would be ingested again", a.MoveTo)
		}
	default:
		report(ap.Child("after_ingest"), "after_ingest %q: use seen, move or none", a.AfterIngest)
	}
	if a.PollInterval < yamlfile.Duration(time.Second) {
		report(ap.Child("poll_interval"), "poll_interval must be at least 1s")
	}
	if a.MaxMessageBytes < minEmailMaxMessage || a.MaxMessageBytes > maxEmailMaxMessage {
		report(ap.Child("max_message_bytes"), "max_message_bytes must be between 64KiB and 100MiB")
	}
	if a.MaxTextBytes < minEmailMaxText || a.MaxTextBytes > maxEmailMaxText {
		report(ap.Child("max_text_bytes"), "max_text_bytes must be between 16KiB and 1MiB")
	}
	if a.Backfill != nil && *a.Backfill < 0 {
		report(ap.Child("backfill"), "backfill cannot be negative")
	}
	for j, id := range a.TrustedAuthservIDs {
		if id != "(none)" && (id == "" || strings.ContainsAny(id, " \t\r\n;()\"")) {
			report(ap.Child("trusted_authserv_ids").Child(j),
				"trusted authserv-id %q: want the first word of the server's Authentication-Results header (such as mx.example.com), or \"(none)\" for Microsoft 365", id)
		}
	}
	for j, own := range a.OwnAddresses {
		validOwnAddress(ap.Child("own_addresses").Child(j), own, report)
	}
}

// mailboxKey compares mailbox names: INBOX is case-insensitive (RFC 3501
// section 5.1), every other name is case-sensitive.
func mailboxKey(mb string) string {
	if strings.EqualFold(mb, "INBOX") {
		return "INBOX"
	}
	return mb
}

// sentNames are the names mail programs and servers give the Sent folder
// (lowercase, without an "INBOX." or "[Gmail]/" prefix).
var sentNames = map[string]bool{
	"sent": true, "sent items": true, "sent mail": true, "sent messages": true,
	"lähetetyt": true, "lähetetyt viestit": true, "lähetetyt kohteet": true,
	"skickat": true, "skickade objekt": true, "skickade meddelanden": true,
	"gesendet": true, "gesendete elemente": true, "gesendete objekte": true,
	"envoyés": true, "éléments envoyés": true, "messages envoyés": true,
}

// looksSent reports whether mailbox is named as a Sent folder is.
func looksSent(mailbox string) bool {
	name := strings.ToLower(strings.TrimSpace(mailbox))
	for _, prefix := range []string{"inbox.", "inbox/", "[gmail]/", "[google mail]/"} {
		name = strings.TrimPrefix(name, prefix)
	}
	return sentNames[name]
}

// validOwnAddress checks one own_addresses entry: an address or "@domain".
func validOwnAddress(p yamlfile.Path, s string, report func(yamlfile.Path, string, ...any)) {
	if dom, ok := strings.CutPrefix(s, "@"); ok {
		if dom == "" || strings.ContainsAny(dom, "@ <>,;") {
			report(p, "own address %q: want name@domain or @domain", s)
		}
		return
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		report(p, "own address %q: want name@domain or @domain", s)
	}
}
