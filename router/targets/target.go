// Package targets delivers routed items to the queues teams read: a subject
// in the NATS team-queue stream, a Redis Stream, or an HTTPS webhook. Every
// target is idempotent per item and team (Key): delivering the same item
// twice stores it once (NATS, Redis) or sends the same Idempotency-Key
// (webhook).
package targets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
)

// Target stores routed items in one kind of team queue.
type Target interface {
	// Deliver stores item (data is its JSON encoding) and returns once the
	// backend accepted it. Delivering the same Key twice stores it once.
	// Errors are transient unless marked Permanent.
	Deliver(ctx context.Context, item *message.Routed, data []byte) error
	// Name describes the target for logs and metric labels ("nats",
	// "redis:<stream>", "webhook:<host>"). It never holds a credential.
	Name() string
	// ID identifies the target among a team's targets, stably across rules
	// reloads; it never holds a credential.
	ID() string
}

// Depther is a Target whose backend can tell how many items a team's queue
// holds.
type Depther interface {
	// Depth returns the number of items in team's queue.
	Depth(ctx context.Context, team string) (int64, error)
}

// Key is the idempotency key of a routed item: "<envelope id>:<team>". It is
// the Nats-Msg-Id in the team stream, part of the Redis dedup key and the
// webhook Idempotency-Key.
func Key(item *message.Routed) string { return item.ID + ":" + item.Team }

// Factory builds targets from specs; it holds what targets share.
type Factory struct {
	// NATS is the one NATS target every team's nats target uses.
	NATS *NATS
	// Redis is the client redis targets use; nil when delivery.redis.url is
	// not set, which makes a redis target an error.
	Redis RedisClient
	// HTTP is the client webhooks use (nil: a default client).
	HTTP *http.Client
	// DedupTTL is how long Redis remembers a delivered key (0: DefaultDedupTTL).
	DedupTTL time.Duration
	// WebhookTimeout bounds a webhook request whose spec sets none (0:
	// targetspec.DefaultWebhookTimeout).
	WebhookTimeout time.Duration
	// AllowedWebhookHosts, when not empty, are the only hosts a webhook
	// may send to (delivery.webhook.allowed_hosts): a name matches itself,
	// "*.example.com" every subdomain of example.com.
	AllowedWebhookHosts []string
}

// New builds team's target for s, after filling in the defaults of team
// and validating it (targetspec.Spec.Validate, the same check the rules
// file gets). Errors name the team and the problem and never contain a
// webhook URL or a Redis password.
func (f *Factory) New(team string, s targetspec.Spec) (Target, error) {
	s = s.WithDefaults(team)
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("team %s: %s: %w", team, s, err)
	}
	switch s.Type {
	case targetspec.NATS:
		if f.NATS == nil {
			return nil, fmt.Errorf("team %s: nats target: no NATS connection", team)
		}
		return f.NATS, nil
	case targetspec.Redis:
		if f.Redis == nil {
			return nil, fmt.Errorf("team %s: %s: delivery.redis.url is not set in the configuration", team, s)
		}
		return NewRedis(f.Redis, team, s, f.DedupTTL)
	default: // targetspec.Webhook: Validate knows no other kind
		if err := f.allowedWebhook(s); err != nil {
			return nil, fmt.Errorf("team %s: %s: %w", team, s, err)
		}
		if s.Timeout == 0 {
			s.Timeout = f.WebhookTimeout
		}
		return NewWebhook(s, f.HTTP)
	}
}

// allowedWebhook refuses a webhook whose host is not in
// AllowedWebhookHosts (when that is set).
func (f *Factory) allowedWebhook(s targetspec.Spec) error {
	if len(f.AllowedWebhookHosts) == 0 {
		return nil
	}
	u, err := url.Parse(s.URL) // Validate parsed it
	if err != nil {
		return errors.New("url does not parse")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, a := range f.AllowedWebhookHosts {
		a = strings.ToLower(a)
		if sub, ok := strings.CutPrefix(a, "*."); ok {
			if strings.HasSuffix(host, "."+sub) {
				return nil
			}
		} else if host == a {
			return nil
		}
	}
	// The host is no credential; the path and query may be.
	return fmt.Errorf("host %s is not in delivery.webhook.allowed_hosts", host)
}

// permanentError marks an error retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix: the backend refused
// the item itself (a 4xx answer, a payload too large). The router
// dead-letters such items at once instead of retrying them.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error { return Permanent(fmt.Errorf(format, args...)) }

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError carries a delay the backend asked for.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// WithRetryAfter marks err with the delay to wait before the next attempt.
func WithRetryAfter(err error, delay time.Duration) error {
	if err == nil || delay <= 0 {
		return err
	}
	return &retryAfterError{err: err, delay: delay}
}

// RetryAfter returns the delay the backend asked for before the next
// attempt (an HTTP Retry-After), or 0.
func RetryAfter(err error) time.Duration {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.delay
	}
	return 0
}
