// Package intake is the HTTP intake connector: web forms and chat widgets
// POST customer messages to /v1/messages with a bearer token.
package intake

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/message"
)

// Channel is the envelope channel of intake messages.
const Channel = "web"

// Request is the JSON body of POST /v1/messages. Only text is required.
type Request struct {
	// ID is the client's own id for the message. Send it to make retries
	// safe: the same id is stored once. Without it an id is generated.
	ID        string            `json:"id"`
	Text      string            `json:"text"`
	Subject   string            `json:"subject"`
	Author    message.Author    `json:"author"`
	Lang      string            `json:"lang"`
	URL       string            `json:"url"`
	ThreadID  string            `json:"thread_id"`
	ParentID  string            `json:"parent_id"`
	CreatedAt *time.Time        `json:"created_at"`
	Metadata  map[string]string `json:"metadata"`
}

// Response is the body of a 202 answer.
type Response struct {
	ID string `json:"id"`
}

// Connector serves the intake endpoint while it runs.
type Connector struct {
	token   []byte
	maxBody int64
	log     *zap.Logger
	now     func() time.Time

	// mu guards handle and up. up is closed while handle is set, so that a
	// request arriving in the moment between the HTTP server starting and
	// the supervisor starting Run waits briefly instead of failing.
	mu     sync.Mutex
	handle *connectors.Handle
	up     chan struct{}
	// startWait bounds how long a request waits for Run to start.
	startWait time.Duration
}

// New returns an intake accepting bearer token and bodies up to maxBody bytes.
func New(token string, maxBody int64, log *zap.Logger) *Connector {
	return &Connector{token: []byte(token), maxBody: maxBody, log: log, now: time.Now, up: make(chan struct{}), startWait: 3 * time.Second}
}

// Name implements connectors.Connector.
func (c *Connector) Name() string { return "intake" }

// Run accepts messages until ctx ends.
func (c *Connector) Run(ctx context.Context, h *connectors.Handle) error {
	c.mu.Lock()
	c.handle = h
	close(c.up)
	c.mu.Unlock()
	h.Serving()
	<-ctx.Done()
	c.mu.Lock()
	c.handle = nil
	c.up = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// running returns the handle of the running connector, waiting up to
// startWait for it to start; nil if it does not.
func (c *Connector) running(ctx context.Context) *connectors.Handle {
	c.mu.Lock()
	h, up := c.handle, c.up
	c.mu.Unlock()
	if h != nil {
		return h
	}
	t := time.NewTimer(c.startWait)
	defer t.Stop()
	select {
	case <-up:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.handle
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

// errorBody is every non-2xx answer.
type errorBody struct {
	Error string `json:"error"`
}

// ServeHTTP handles POST /v1/messages.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, errorBody{"use POST"})
		return
	}
	if !c.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
		reply(w, http.StatusUnauthorized, errorBody{"missing or wrong bearer token"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		reply(w, http.StatusUnsupportedMediaType, errorBody{"send Content-Type: application/json"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			reply(w, http.StatusRequestEntityTooLarge, errorBody{fmt.Sprintf("body exceeds %d bytes", c.maxBody)})
			return
		}
		reply(w, http.StatusBadRequest, errorBody{"reading body: " + err.Error()})
		return
	}
	env, err := c.envelope(body)
	if err != nil {
		reply(w, http.StatusBadRequest, errorBody{err.Error()})
		return
	}
	h := c.running(r.Context())
	if h == nil {
		w.Header().Set("Retry-After", "5")
		reply(w, http.StatusServiceUnavailable, errorBody{"intake is not running; retry shortly"})
		return
	}
	_, err = h.Publish(r.Context(), env)
	if err != nil {
		c.log.Error("intake could not store a message", zap.String("id", env.ID), zap.Error(err))
		h.Failed(err)
		w.Header().Set("Retry-After", "5")
		reply(w, http.StatusServiceUnavailable, errorBody{"could not store the message; retry"})
		return
	}
	reply(w, http.StatusAccepted, Response{ID: env.ID})
}

func (c *Connector) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), c.token) == 1
}

// envelope decodes and checks a request body.
func (c *Connector) envelope(body []byte) (*message.Envelope, error) {
	var req Request
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: more than one value in the body")
	}
	if !utf8.ValidString(req.Text) || !utf8.ValidString(req.Subject) {
		return nil, errors.New("text and subject must be UTF-8")
	}
	if strings.TrimSpace(req.Text) == "" {
		return nil, errors.New("text is required")
	}
	if req.ID == "" {
		req.ID = newID()
	} else if len(req.ID) > 200 || strings.ContainsAny(req.ID, " \t\r\n") {
		return nil, errors.New("id must be at most 200 characters without whitespace")
	}
	now := c.now().UTC()
	created := now
	if req.CreatedAt != nil {
		created = req.CreatedAt.UTC()
	}
	return &message.Envelope{
		Version:    message.SchemaVersion,
		ID:         message.MakeID(Channel, req.ID),
		Channel:    Channel,
		Kind:       message.KindWeb,
		SourceID:   req.ID,
		ThreadID:   req.ThreadID,
		ParentID:   req.ParentID,
		URL:        req.URL,
		Author:     req.Author,
		Subject:    req.Subject,
		Text:       req.Text,
		Lang:       req.Lang,
		CreatedAt:  created,
		ReceivedAt: now,
		Metadata:   req.Metadata,
	}, nil
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
