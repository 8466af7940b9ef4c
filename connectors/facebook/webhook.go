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
	"strings"

	"go.uber.org/zap"
)

// Trigger is what a webhook wakes up: the poller of one page.
type Trigger interface {
	// Trigger asks for a poll now without waiting for it.
	Trigger()
}

// Webhook receives Page webhooks (Graph API Webhooks, object "page"). It
// answers the hub.verify_token handshake, checks X-Hub-Signature-256 with the
// app secret and makes every page named in a verified notification poll at
// once. It never ingests the notification itself: polling stays the source of
// truth, so a lost or repeated webhook changes nothing but latency.
type Webhook struct {
	verifyToken []byte
	appSecret   []byte
	pages       map[string]Trigger
	log         *zap.Logger
	metrics     *Metrics
}

// maxWebhookBody caps a notification body; Facebook batches at most a
// thousand changes per request, far below this.
const maxWebhookBody = 4 << 20

// NewWebhook returns a receiver that wakes pages (by page id). metrics may be nil.
func NewWebhook(verifyToken, appSecret string, pages map[string]Trigger, log *zap.Logger, metrics *Metrics) (*Webhook, error) {
	if verifyToken == "" || appSecret == "" {
		return nil, errors.New("facebook webhook: verify token and app secret are required")
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Webhook{verifyToken: []byte(verifyToken), appSecret: []byte(appSecret), pages: pages, log: log, metrics: metrics}, nil
}

// ServeHTTP answers GET (the subscription handshake) and POST (notifications).
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.verify(rw, r)
	case http.MethodPost:
		w.receive(rw, r)
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

// receive checks a notification's signature and wakes its pages.
func (w *Webhook) receive(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxWebhookBody))
	if err != nil {
		w.metrics.webhookResult("malformed")
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(rw, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(rw, "reading body failed", http.StatusBadRequest)
		return
	}
	if !w.signed(r.Header.Get("X-Hub-Signature-256"), body) {
		w.metrics.webhookResult("bad_signature")
		w.log.Warn("facebook webhook refused: X-Hub-Signature-256 missing or wrong (check webhook.app_secret)",
			zap.String("remote", r.RemoteAddr), zap.Int("bytes", len(body)))
		http.Error(rw, "bad signature", http.StatusForbidden)
		return
	}
	ids, err := ParseWebhook(body)
	if err != nil {
		w.metrics.webhookResult("malformed")
		w.log.Warn("facebook webhook body unreadable", zap.Error(err), zap.Int("bytes", len(body)))
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	for _, id := range ids {
		t, ok := w.pages[id]
		if !ok {
			w.metrics.webhookResult("ignored")
			w.log.Debug("facebook webhook for a page that is not configured", zap.String("page_id", id))
			continue
		}
		w.metrics.webhookResult("accepted")
		t.Trigger()
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(rw, "EVENT_RECEIVED")
}

// signed checks header ("sha256=<hex HMAC-SHA256 of body keyed with the app
// secret>") in constant time.
func (w *Webhook) signed(header string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, w.appSecret)
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), sig)
}

// webhookBody is the part of a Page notification the receiver uses:
// {"object":"page","entry":[{"id":"<page id>","time":…,"changes":[…]}]} (or
// "messaging":[…] for Messenger).
type webhookBody struct {
	Object string `json:"object"`
	Entry  []struct {
		ID string `json:"id"`
	} `json:"entry"`
}

// ParseWebhook returns the ids of the pages a Page notification is about,
// each once, in order. Entries without a usable page id are left out.
func ParseWebhook(body []byte) ([]string, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("webhook body is not the JSON Facebook sends: %v", err)
	}
	if b.Object != "page" {
		return nil, fmt.Errorf("webhook object %q: only page notifications are handled", truncate(b.Object, 40))
	}
	var ids []string
	seen := map[string]bool{}
	for _, e := range b.Entry {
		if !numericID(e.ID) || seen[e.ID] {
			continue
		}
		seen[e.ID] = true
		ids = append(ids, e.ID)
	}
	return ids, nil
}

func numericID(s string) bool {
	if s == "" || len(s) > 30 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
