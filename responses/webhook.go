package responses

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// WebhookConfig is where escalations are posted.
type WebhookConfig struct {
	// URL receives a POST per escalation; empty: no webhook.
	URL string
	// Format is "slack" ({"text": ...}) or "json" (the Escalation).
	Format string
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// MaxAttempts bounds the tries per escalation (default 20); then it is
	// logged and given up (it stays in the escalations stream).
	MaxAttempts int
}

func (w *WebhookConfig) defaults() {
	if w.Format == "" {
		w.Format = "slack"
	}
	if w.Timeout <= 0 {
		w.Timeout = 10 * time.Second
	}
	if w.MaxAttempts < 1 {
		w.MaxAttempts = 20
	}
}

// Webhook retry delays: doubling from retryMin up to retryMax.
const (
	retryMin = time.Second
	retryMax = 10 * time.Minute
)

// retryDelay is the wait before attempt n+1 after n failed ones.
func retryDelay(n uint64) time.Duration {
	d := retryMin
	for i := uint64(1); i < n && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// deliverWebhooks posts every escalation to the webhook until ctx ends.
func (t *Tracker) deliverWebhooks(ctx context.Context, cons jetstream.Consumer) {
	s := t.follow(cons, 10, "escalations")
	for {
		msgs, ok := s.next(ctx)
		if !ok {
			return
		}
		for _, m := range msgs {
			t.deliverWebhook(ctx, m)
		}
	}
}

func (t *Tracker) deliverWebhook(ctx context.Context, m jetstream.Msg) {
	var esc Escalation
	if err := json.Unmarshal(m.Data(), &esc); err != nil {
		t.log.Error("dropping an unreadable escalation from the webhook", zap.String("subject", m.Subject()), zap.Error(err))
		_ = m.Term()
		return
	}
	attempts := uint64(1)
	if meta, err := m.Metadata(); err == nil {
		attempts = meta.NumDelivered
	}
	log := t.log.With(zap.String("escalation", esc.ID), zap.Uint64("attempt", attempts))
	retry, err := t.post(ctx, &esc)
	switch {
	case err == nil:
		t.metrics.webhookResult("ok")
		_ = m.Ack()
	case !retry:
		t.metrics.webhookResult("rejected")
		log.Error("the escalation webhook rejected an escalation; not retrying", zap.Error(err))
		_ = m.Term()
	case attempts >= uint64(t.cfg.Webhook.MaxAttempts):
		t.metrics.webhookResult("gave_up")
		log.Error("the escalation webhook kept failing; giving up on this escalation (it stays in the escalations stream)", zap.Error(err))
		_ = m.Term()
	default:
		t.metrics.webhookResult("retry")
		log.Warn("the escalation webhook failed; retrying", zap.Error(err))
		_ = m.NakWithDelay(retryDelay(attempts))
	}
}

// post sends one escalation; retry says whether a failure may pass.
func (t *Tracker) post(ctx context.Context, esc *Escalation) (retry bool, err error) {
	var body []byte
	if t.cfg.Webhook.Format == "json" {
		body, err = json.Marshal(esc)
	} else {
		body, err = json.Marshal(map[string]string{"text": SlackText(esc)})
	}
	if err != nil {
		return false, fmt.Errorf("encoding escalation: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Webhook.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("building the webhook request: %w", err) // never the URL: it is a secret
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", esc.ID)
	resp, err := t.http.Do(req)
	if err != nil {
		return true, fmt.Errorf("calling the escalation webhook: %w", redactURL(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		return true, fmt.Errorf("escalation webhook answered %s", resp.Status)
	}
	return false, fmt.Errorf("escalation webhook answered %s", resp.Status)
}

// redactURL keeps the webhook's URL (a secret for Slack) out of an error.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// SlackText is the text an escalation is posted to Slack with.
func SlackText(e *Escalation) string {
	var b strings.Builder
	fmt.Fprintf(&b, ":rotating_light: *%s*: %s %s unanswered for %s (target %s", e.Team, e.Channel, e.Kind, e.Age, e.Target)
	if e.Calendar != "" && e.Calendar != "24/7" {
		fmt.Fprintf(&b, " in %s hours", e.Calendar)
	}
	fmt.Fprintf(&b, ", level %d of %d", e.Level, e.Levels)
	if e.Priority != "" && e.Priority != "normal" {
		fmt.Fprintf(&b, ", priority %s", e.Priority)
	}
	b.WriteString(")")
	if e.Snippet != "" {
		snippet := e.Snippet
		if r := []rune(snippet); len(r) > 200 {
			snippet = string(r[:199]) + "…"
		}
		b.WriteString("\n>")
		if e.Author != "" {
			b.WriteString(slackEscape(e.Author) + ": ")
		}
		b.WriteString(slackEscape(snippet))
	}
	b.WriteString("\n")
	if e.Link != "" {
		fmt.Fprintf(&b, "<%s|Open in Switchboard> · ", e.Link)
	}
	fmt.Fprintf(&b, "`%s`", e.Item)
	return b.String()
}

// slackEscape escapes the characters Slack's mrkdwn treats as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
