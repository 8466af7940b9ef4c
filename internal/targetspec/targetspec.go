// Package targetspec is the one model of a team's delivery target: its
// kinds, fields, defaults and validation. The rules file declares targets
// in it (rules.Team.Targets) and router/targets builds them from it, so a
// target the rules accept is a target the router can build.
package targetspec

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/loopback"
	"github.com/switchboard/switchboard/internal/secret"
)

// Target kinds (Spec.Type), as written in the rules file.
const (
	NATS    = "nats"
	Redis   = "redis"
	Webhook = "webhook"
)

// Webhook body formats (Spec.Format).
const (
	// FormatJSON posts the routed item as JSON.
	FormatJSON = "json"
	// FormatSlack posts a Slack incoming-webhook message.
	FormatSlack = "slack"
)

// DefaultWebhookTimeout bounds a webhook request when neither the target
// nor delivery.webhook.timeout sets a timeout.
const DefaultWebhookTimeout = 10 * time.Second

// MaxWebhookTimeout is the longest timeout a webhook target may set.
const MaxWebhookTimeout = 5 * time.Minute

// DefaultRedisStream is the Redis Stream key of team's redis target when it
// names none.
func DefaultRedisStream(team string) string { return "switchboard:team:" + team }

// Spec is one delivery target of a team.
type Spec struct {
	// Type is NATS, Redis or Webhook.
	Type string
	// Stream is the Redis Stream key (redis; WithDefaults fills
	// DefaultRedisStream).
	Stream string
	// MaxLen caps the Redis Stream, approximately (redis; 0: no cap).
	MaxLen int64
	// URL is the webhook endpoint (webhook). It may embed a credential
	// (Slack webhook URLs do): it never appears in errors, and String keeps
	// only its scheme and host.
	URL string
	// Secret signs webhook bodies with HMAC-SHA256 (webhook; empty:
	// unsigned).
	Secret secret.Secret
	// Timeout bounds one webhook request (webhook; 0: the delivery default,
	// delivery.webhook.timeout).
	Timeout time.Duration
	// Format is FormatJSON or FormatSlack (webhook; WithDefaults fills
	// FormatJSON).
	Format string
}

// WithDefaults returns s with what team's target leaves out filled in: the
// Redis stream key and the webhook format. The webhook timeout stays 0,
// which means the delivery default.
func (s Spec) WithDefaults(team string) Spec {
	switch s.Type {
	case Redis:
		if s.Stream == "" {
			s.Stream = DefaultRedisStream(team)
		}
	case Webhook:
		if s.Format == "" {
			s.Format = FormatJSON
		}
	}
	return s
}

// FieldError is one problem of a Spec; Field is the rules-file key at
// fault ("type", "url", "maxlen", ...).
type FieldError struct {
	Field string
	Msg   string
}

// Error is the message; it never repeats a URL or a secret.
func (e *FieldError) Error() string { return e.Msg }

// Validate returns the Problems of s joined into one error (each a
// *FieldError), or nil when s can be built.
func (s Spec) Validate() error {
	var errs []error
	for _, p := range s.Problems() {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// Problems lists everything wrong with s, in a stable order; none when s can
// be built. Messages never repeat the URL, which may hold a credential.
func (s Spec) Problems() []*FieldError {
	var probs []*FieldError
	bad := func(field, format string, args ...any) {
		probs = append(probs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for _, f := range []struct {
		kind, field string
		set         bool
	}{
		{Redis, "stream", s.Stream != ""},
		{Redis, "maxlen", s.MaxLen != 0},
		{Webhook, "url", s.URL != ""},
		{Webhook, "secret", s.Secret != ""},
		{Webhook, "timeout", s.Timeout != 0},
		{Webhook, "format", s.Format != ""},
	} {
		if f.set && s.Type != f.kind {
			bad(f.field, "%s applies to %s targets only", f.field, f.kind)
		}
	}
	switch s.Type {
	case NATS:
	case Redis:
		if strings.ContainsAny(s.Stream, "{}") {
			bad("stream", "redis stream key %q: must not contain { or } (the dedup key uses a hash tag)", s.Stream)
		}
		if s.MaxLen < 0 {
			bad("maxlen", "maxlen must be 0 (no cap) or more")
		}
	case Webhook:
		if msg := checkWebhookURL(s.URL); msg != "" {
			bad("url", "%s", msg)
		}
		if s.Timeout < 0 || s.Timeout > MaxWebhookTimeout {
			bad("timeout", "timeout must be between 1ms and %s", MaxWebhookTimeout)
		}
		if s.Format != "" && s.Format != FormatJSON && s.Format != FormatSlack {
			bad("format", "format %q: use json or slack", s.Format)
		}
	case "":
		bad("type", "target needs a type: nats, redis or webhook")
	default:
		bad("type", "target type %q: use nats, redis or webhook", s.Type)
	}
	return probs
}

// checkWebhookURL explains what is wrong with a webhook URL, or returns "".
// It never repeats the URL.
func checkWebhookURL(raw string) string {
	if raw == "" {
		return "webhook target needs a url"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "url must be an absolute http(s) URL, like https://hooks.example.com/switchboard"
	}
	if u.Scheme == "http" && !loopback.Is(u.Hostname()) {
		return "url must use https (plain http is allowed only to localhost or a loopback address)"
	}
	return ""
}

// String describes s for logs, without any credential: the kind, the Redis
// stream, or a webhook's scheme and host.
func (s Spec) String() string {
	switch s.Type {
	case Redis:
		return "redis stream " + s.Stream
	case Webhook:
		if u, err := url.Parse(s.URL); err == nil && u.Host != "" {
			return "webhook " + u.Scheme + "://" + u.Host + " (" + s.Format + ")"
		}
		return "webhook"
	}
	return s.Type
}
