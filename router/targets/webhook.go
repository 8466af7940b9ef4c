package targets

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
)

// Webhook request headers.
const (
	// HeaderSignature is "sha256=<hex HMAC-SHA256 of timestamp + "." + body>".
	HeaderSignature = "X-Switchboard-Signature"
	// HeaderTimestamp is the Unix time (seconds) the request was signed at.
	HeaderTimestamp = "X-Switchboard-Timestamp"
	// HeaderIdempotencyKey is IdempotencyKey(item): the same for every retry
	// of an item.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderTeam names the team the item was routed to.
	HeaderTeam = "X-Switchboard-Team"
)

// Webhook POSTs routed items to an HTTPS endpoint: the routed item as JSON,
// or a Slack-compatible {"text": ...} body. Requests are signed with
// HMAC-SHA256 when a secret is set and carry an Idempotency-Key header that
// is the same for every retry of an item, so a receiver can drop a
// redelivered item.
//
// A 2xx answer accepts the item. 400, 413, 415 and 422 refuse the item
// itself (permanent: dead-lettered at once). Everything else (other 4xx,
// 5xx, redirects, timeouts, network errors) is retried, honouring
// Retry-After.
type Webhook struct {
	url     string
	host    string // scheme://host, for errors (Slack URLs carry secrets in the path)
	id      string
	secret  []byte
	format  string
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
}

// NewWebhook returns a webhook target for spec, which must pass
// targetspec.Spec.Validate: an https:// URL, or http:// to a loopback host
// (a local relay, tests). client may be nil (a default client); redirects
// are never followed, so a body and its signature go nowhere but the
// configured endpoint. Errors never contain the URL's path or query.
func NewWebhook(spec targetspec.Spec, client *http.Client) (*Webhook, error) {
	spec.Type = targetspec.Webhook
	spec = spec.WithDefaults("")
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	u, _ := url.Parse(spec.URL) // Validate parsed it
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = targetspec.DefaultWebhookTimeout
	}
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	sum := sha256.Sum256([]byte(spec.URL))
	return &Webhook{
		url:     spec.URL,
		host:    u.Scheme + "://" + u.Host,
		id:      targetspec.Webhook + ":" + hex.EncodeToString(sum[:8]),
		secret:  []byte(spec.Secret.Reveal()),
		format:  spec.Format,
		timeout: timeout,
		client:  &c,
		now:     time.Now,
	}, nil
}

// Name is "webhook:<host>": no path or query, which may hold a credential.
func (w *Webhook) Name() string {
	return targetspec.Webhook + ":" + strings.TrimPrefix(strings.TrimPrefix(w.host, "https://"), "http://")
}

// ID is "webhook:" and a hash of the URL.
func (w *Webhook) ID() string { return w.id }

// IdempotencyKey is the Idempotency-Key header value of item: Key(item) as
// an RFC 8941 string ("web:42:billing", quotes included), as
// draft-ietf-httpapi-idempotency-key-header specifies. A key with bytes a
// header string cannot carry is sent as "sha256:<hex of Key(item)>".
func IdempotencyKey(item *message.Routed) string {
	k := Key(item)
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c > 0x7e {
			sum := sha256.Sum256([]byte(k))
			return `"sha256:` + hex.EncodeToString(sum[:]) + `"`
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(k) + `"`
}

// Sign returns the X-Switchboard-Signature value for body sent at
// timestamp (Unix seconds) with secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature made by Sign in constant time, and that
// timestamp is within tolerance of now. Receivers written in Go can use it.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("signature timestamp is not a Unix time")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("signature timestamp outside the tolerance")
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// Deliver POSTs item; see Webhook for how answers are treated.
func (w *Webhook) Deliver(ctx context.Context, item *message.Routed, data []byte) error {
	body := data
	if w.format == targetspec.FormatSlack {
		var err error
		if body, err = SlackBody(item); err != nil {
			return Permanentf("building slack body for %s: %w", item.ID, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Permanentf("building webhook request to %s: %v", w.host, err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard")
	req.Header.Set(HeaderIdempotencyKey, IdempotencyKey(item))
	req.Header.Set(HeaderTeam, item.Team)
	req.Header.Set(HeaderTimestamp, ts)
	if len(w.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The *url.Error names the full URL; keep only what is safe.
			err = ue.Err
		}
		return fmt.Errorf("posting %s to webhook %s: %w", item.ID, w.host, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusBadRequest, code == http.StatusRequestEntityTooLarge,
		code == http.StatusUnsupportedMediaType, code == http.StatusUnprocessableEntity:
		return Permanentf("webhook %s refused %s: %s", w.host, item.ID, resp.Status)
	default:
		err := fmt.Errorf("webhook %s answered %s for %s", w.host, resp.Status, item.ID)
		return WithRetryAfter(err, retryAfter(resp.Header.Get("Retry-After"), w.now()))
	}
}

// maxRetryAfter caps a Retry-After (in seconds) so that a huge value cannot
// overflow; the router caps the delay at delivery.retry_max anyway.
const maxRetryAfter = 24 * 60 * 60

// retryAfter parses a Retry-After value (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(min(s, maxRetryAfter)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter*time.Second)
	}
	return 0
}

// slackTextLimit keeps a Slack message readable; the full text stays in
// the queue and the ingest stream.
const slackTextLimit = 3000

// SlackBody is the Slack incoming-webhook body for item: {"text": ...} in
// Slack's mrkdwn, with &, < and > escaped as Slack requires.
func SlackBody(item *message.Routed) ([]byte, error) {
	var b strings.Builder
	prio := item.Priority
	if prio == "" {
		prio = "normal"
	}
	fmt.Fprintf(&b, "*[%s] %s* · %s/%s", slackEscape(prio), slackEscape(item.Team), slackEscape(item.Channel), slackEscape(string(item.Kind)))
	if who := firstNonEmpty(item.Author.Name, item.Author.Handle, item.Author.Email); who != "" {
		fmt.Fprintf(&b, " from %s", slackEscape(who))
	}
	if len(item.Topics) > 0 {
		fmt.Fprintf(&b, " · %s", slackEscape(strings.Join(item.Topics, ", ")))
	}
	b.WriteByte('\n')
	if item.Subject != "" {
		fmt.Fprintf(&b, "*%s*\n", slackEscape(item.Subject))
	}
	text := message.Clip(item.Text, slackTextLimit)
	for _, line := range strings.Split(slackEscape(text), "\n") {
		b.WriteString("> ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	if u, err := url.Parse(item.URL); item.URL != "" && err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		fmt.Fprintf(&b, "<%s|Open on %s>", strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(item.URL), slackEscape(item.Channel))
	}
	return json.Marshal(struct {
		Text string `json:"text"`
	}{strings.TrimRight(b.String(), "\n")})
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
