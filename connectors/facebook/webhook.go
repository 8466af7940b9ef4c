package facebook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
)

// Trigger is what a webhook wakes up: the poller of one page.
type Trigger interface {
	// Trigger asks for a poll now without waiting for it.
	Trigger()
}

// Limits of the webhook receiver. Facebook batches at most 1000 changes per
// notification, and a notification carries ids and short fields, not
// media: a few KiB, a few hundred KiB at the very most.
const (
	// maxWebhookBody caps a notification body.
	maxWebhookBody = 256 << 10
	// maxWebhookInFlight caps the notifications being read at once; more
	// are refused with 503 (Facebook retries).
	maxWebhookInFlight = 16
	// webhookReadTimeout bounds the reading of one body.
	webhookReadTimeout = 10 * time.Second
	// webhookMaxAge is how old a notification may be (entry.time, when it
	// was sent) and still trigger a poll; webhookMaxSkew how far in the
	// future (the sender's clock).
	webhookMaxAge  = 5 * time.Minute
	webhookMaxSkew = time.Minute
	// maxReplays bounds the memory of recent notifications.
	maxReplays = 10000
)

// Webhook receives Page webhooks (Graph API Webhooks, object "page"). It
// answers the hub.verify_token handshake, checks X-Hub-Signature-256 with the
// app secret and makes every page named in a fresh, verified notification
// poll sooner. It never ingests the notification itself: polling stays the
// source of truth, so a lost, late, refused or repeated webhook changes
// nothing but latency.
//
// A body larger than 256 KiB, or one that takes longer than 10s to arrive,
// is refused; at most 16 notifications are read at once. A notification
// sent more than 5 minutes ago (entry time), or one already received in
// that time (the same signature), is answered 200 and triggers nothing.
type Webhook struct {
	verifyToken []byte
	appSecret   []byte
	pages       map[string]Trigger
	log         *zap.Logger
	metrics     *Metrics
	now         func() time.Time
	slots       chan struct{}
	replays     *replays
}

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	// VerifyToken answers the subscription handshake; required.
	VerifyToken string
	// AppSecret checks X-Hub-Signature-256; required.
	AppSecret string
	// Pages maps page ids to the pollers a notification wakes.
	Pages map[string]Trigger
	// Log receives the receiver's logs (default: none).
	Log *zap.Logger
	// Metrics records the results (nil: none).
	Metrics *Metrics
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// NewWebhook returns a receiver that wakes the configured pages.
func NewWebhook(c WebhookConfig) (*Webhook, error) {
	if c.VerifyToken == "" || c.AppSecret == "" {
		return nil, errors.New("facebook webhook: verify token and app secret are required")
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Webhook{
		verifyToken: []byte(c.VerifyToken), appSecret: []byte(c.AppSecret), pages: c.Pages,
		log: c.Log, metrics: c.Metrics, now: c.Now,
		slots:   make(chan struct{}, maxWebhookInFlight),
		replays: newReplays(webhookMaxAge+webhookMaxSkew, maxReplays),
	}, nil
}

// ServeHTTP answers GET (the subscription handshake) and POST (notifications).
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.verify(rw, r)
	case http.MethodPost:
		select {
		case w.slots <- struct{}{}:
			defer func() { <-w.slots }()
			w.receive(rw, r)
		default:
			w.metrics.webhookResult("busy")
			rw.Header().Set("Retry-After", "1")
			http.Error(rw, "busy", http.StatusServiceUnavailable)
		}
	default:
		rw.Header().Set("Allow", "GET, POST")
		http.Error(rw, "use GET or POST", http.StatusMethodNotAllowed)
	}
}

// verify answers GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…
// with the challenge when the verify token matches.
func (w *Webhook) verify(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := []byte(q.Get("hub.verify_token"))
	challenge := q.Get("hub.challenge")
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare(token, w.verifyToken) != 1 {
		w.metrics.webhookResult("verify_failed")
		w.log.Warn("facebook webhook handshake refused: wrong hub.mode or hub.verify_token (compare verify_token with the app dashboard)",
			zap.String("remote", r.RemoteAddr))
		http.Error(rw, "verification failed", http.StatusForbidden)
		return
	}
	if !validChallenge(challenge) {
		w.metrics.webhookResult("verify_failed")
		http.Error(rw, "hub.challenge missing or malformed", http.StatusBadRequest)
		return
	}
	w.metrics.webhookResult("verified")
	w.log.Info("facebook webhook subscription verified")
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(rw, challenge)
}

// validChallenge accepts the short token Facebook sends (digits in
// practice), so that the handshake never echoes arbitrary content.
func validChallenge(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// receive checks a notification's size and signature, refuses a replay or
// a stale one, and wakes its pages.
func (w *Webhook) receive(rw http.ResponseWriter, r *http.Request) {
	sig, ok := parseSignature(r.Header.Get("X-Hub-Signature-256"))
	if !ok {
		w.refuse(rw, r, "bad_signature", http.StatusForbidden, "X-Hub-Signature-256 missing or malformed", 0)
		return
	}
	if r.ContentLength > maxWebhookBody {
		w.refuse(rw, r, "too_large", http.StatusRequestEntityTooLarge, "body too large", 0)
		return
	}
	// A network deadline: the wall clock, whatever clock judges entry times.
	_ = http.NewResponseController(rw).SetReadDeadline(time.Now().Add(webhookReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			w.refuse(rw, r, "too_large", http.StatusRequestEntityTooLarge, "body too large", 0)
			return
		}
		w.refuse(rw, r, "malformed", http.StatusBadRequest, "reading body failed", 0)
		return
	}
	mac := hmac.New(sha256.New, w.appSecret)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), sig[:]) {
		w.refuse(rw, r, "bad_signature", http.StatusForbidden, "bad signature", len(body))
		return
	}
	entries, err := ParseWebhook(body)
	if err != nil {
		w.metrics.webhookResult("malformed")
		w.log.Warn("facebook webhook body unreadable", zap.Error(err), zap.Int("bytes", len(body)))
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	now := w.now()
	if !w.replays.first(sig, now) {
		w.metrics.webhookResult("replayed")
		w.log.Warn("facebook webhook received again within minutes; not polling for it (a replay, or a proxy resending)",
			zap.String("remote", r.RemoteAddr))
		acknowledge(rw)
		return
	}
	for _, e := range entries {
		t, ok := w.pages[e.PageID]
		switch {
		case !ok:
			w.metrics.webhookResult("ignored")
			w.log.Debug("facebook webhook for a page that is not configured", zap.String("page_id", e.PageID))
		case e.Time.IsZero() || now.Sub(e.Time) > webhookMaxAge || e.Time.Sub(now) > webhookMaxSkew:
			w.metrics.webhookResult("stale")
			w.log.Info("facebook webhook too old (or from the future) to poll for; the scheduled poll reads it",
				zap.String("page_id", e.PageID), zap.Time("sent", e.Time))
		default:
			w.metrics.webhookResult("accepted")
			t.Trigger()
		}
	}
	acknowledge(rw)
}

// refuse answers a notification that is not read further.
func (w *Webhook) refuse(rw http.ResponseWriter, r *http.Request, result string, status int, msg string, bytes int) {
	w.metrics.webhookResult(result)
	w.log.Warn("facebook webhook refused: "+msg, zap.String("remote", r.RemoteAddr), zap.Int("bytes", bytes))
	http.Error(rw, msg, status)
}

// acknowledge answers 200, as Facebook expects for every notification it
// should not send again.
func acknowledge(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(rw, "EVENT_RECEIVED")
}

// parseSignature reads "sha256=<hex HMAC-SHA256 of the body keyed with the
// app secret>".
func parseSignature(header string) (sig [32]byte, ok bool) {
	hexSig, found := strings.CutPrefix(header, "sha256=")
	if !found || len(hexSig) != 2*sha256.Size {
		return sig, false
	}
	if _, err := hex.Decode(sig[:], []byte(hexSig)); err != nil {
		return sig, false
	}
	return sig, true
}

// WebhookEntry is one entry of a Page notification: the page it is about
// and when Facebook sent it.
type WebhookEntry struct {
	PageID string
	// Time is the entry's time (zero when missing or unusable).
	Time time.Time
}

// webhookBody is the part of a Page notification the receiver uses:
// {"object":"page","entry":[{"id":"<page id>","time":…,"changes":[…]}]} (or
// "messaging":[…] for Messenger, whose time is in milliseconds).
type webhookBody struct {
	Object string `json:"object"`
	Entry  []struct {
		ID   string          `json:"id"`
		Time json.RawMessage `json:"time"`
	} `json:"entry"`
}

// ParseWebhook returns the entries of a Page notification, one per page, in
// order (a page named twice keeps its latest time). Entries without a
// usable page id are left out.
func ParseWebhook(body []byte) ([]WebhookEntry, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("webhook body is not the JSON Facebook sends: %v", err)
	}
	if b.Object != "page" {
		return nil, fmt.Errorf("webhook object %q: only page notifications are handled", message.Clip(b.Object, 40))
	}
	var out []WebhookEntry
	at := map[string]int{}
	for _, e := range b.Entry {
		if !numericID(e.ID) {
			continue
		}
		t := entryTime(e.Time)
		if i, dup := at[e.ID]; dup {
			if t.After(out[i].Time) {
				out[i].Time = t
			}
			continue
		}
		at[e.ID] = len(out)
		out = append(out, WebhookEntry{PageID: e.ID, Time: t})
	}
	return out, nil
}

// entryTime reads an entry's time: unix seconds (feed changes) or
// milliseconds (Messenger). Anything else is zero.
func entryTime(raw json.RawMessage) time.Time {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	switch {
	case err != nil || n <= 0:
		return time.Time{}
	case n >= 1e11: // milliseconds: 1e11 seconds is in the year 5138
		if n > 1e15 {
			return time.Time{}
		}
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// numericID reports whether s is a Graph id: 1-30 digits.
func numericID(s string) bool { return message.Digits(s, 30) }
