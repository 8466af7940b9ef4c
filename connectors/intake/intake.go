// Package intake is the HTTP intake connector: web forms and chat widgets
// POST customer messages to /v1/messages with a bearer token.
package intake

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/message"
)

// Channel is the envelope channel of intake messages.
const Channel = "web"

// maxIDLen is the longest client id accepted.
const maxIDLen = 200

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

// Response is the body of a 202 answer (the message was stored) or a 200
// answer (a message with this id was stored before; Duplicate is true).
type Response struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// Options configure the intake.
type Options struct {
	// Token is the bearer token clients send.
	Token string
	// MaxBodyBytes caps a request body (413 above it).
	MaxBodyBytes int64
	// MaxConcurrent caps requests handled at once; more are answered 503
	// with Retry-After (0: no cap).
	MaxConcurrent int
	// Log receives errors and, at debug level, one line per rejected
	// request (accepted and duplicate items are logged by the handle).
	Log *zap.Logger
	// Metrics counts the answers (nil: not counted).
	Metrics *Metrics
}

// Connector serves the intake endpoint while it runs.
type Connector struct {
	token   []byte
	maxBody int64
	slots   chan struct{} // nil: no cap
	log     *zap.Logger
	metrics *Metrics
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

// New returns an intake configured by o.
func New(o Options) *Connector {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	c := &Connector{token: []byte(o.Token), maxBody: o.MaxBodyBytes, log: o.Log, metrics: o.Metrics, now: time.Now,
		up: make(chan struct{}), startWait: 3 * time.Second}
	if o.MaxConcurrent > 0 {
		c.slots = make(chan struct{}, o.MaxConcurrent)
	}
	return c
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
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			c.reject(w, http.StatusServiceUnavailable, "", "too many requests at once; retry")
			return
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		c.reject(w, http.StatusMethodNotAllowed, "", "use POST")
		return
	}
	if !c.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
		c.reject(w, http.StatusUnauthorized, "", "missing or wrong bearer token")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		c.reject(w, http.StatusUnsupportedMediaType, "", "send Content-Type: application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.reject(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body exceeds %d bytes", c.maxBody))
			return
		}
		c.reject(w, http.StatusBadRequest, "", "reading the body failed or took too long")
		return
	}
	env, err := c.envelope(body)
	if err != nil {
		id := ""
		if env != nil {
			id = env.ID
		}
		c.reject(w, http.StatusBadRequest, id, err.Error())
		return
	}
	h := c.running(r.Context())
	if h == nil {
		w.Header().Set("Retry-After", "5")
		c.reject(w, http.StatusServiceUnavailable, env.ID, "intake is not running; retry shortly")
		return
	}
	dup, err := h.PublishOne(r.Context(), env)
	if err != nil {
		c.log.Error("intake could not store a message", zap.String("id", env.ID), zap.Error(err))
		h.Failed(err)
		w.Header().Set("Retry-After", "5")
		c.reject(w, http.StatusServiceUnavailable, env.ID, "could not store the message; retry")
		return
	}
	if dup {
		c.answer(w, http.StatusOK, Response{ID: env.ID, Duplicate: true})
		return
	}
	c.answer(w, http.StatusAccepted, Response{ID: env.ID})
}

// reject answers code with why, counts it and logs it at debug level with
// the item's id when it is known.
func (c *Connector) reject(w http.ResponseWriter, code int, id, why string) {
	fields := []zap.Field{zap.Int("status", code), zap.String("reason", why)}
	if id != "" {
		fields = append(fields, zap.String("id", id))
	}
	c.log.Debug("intake request rejected", fields...)
	c.answer(w, code, errorBody{why})
}

func (c *Connector) answer(w http.ResponseWriter, code int, v any) {
	c.metrics.answered(code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (c *Connector) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), c.token) == 1
}

// envelope decodes and checks a request body. On an error it returns the
// envelope so far when the client's id is known (for the log), else nil.
func (c *Connector) envelope(body []byte) (*message.Envelope, error) {
	if !utf8.Valid(body) {
		return nil, errors.New("the body is not valid UTF-8")
	}
	if err := checkEscapes(body); err != nil {
		return nil, err
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: more than one value in the body")
	}
	if req.ID == "" {
		req.ID = newID()
	} else if err := checkID(req.ID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.Text) == "" {
		return &message.Envelope{ID: message.MakeID(Channel, req.ID)}, errors.New("text is required")
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

// checkID refuses a client id that is too long or holds whitespace,
// control characters or bidirectional formatting: it names the item
// everywhere (queues, logs, the console) and must stay what it looks like.
func checkID(id string) error {
	if len(id) > maxIDLen {
		return fmt.Errorf("id must be at most %d bytes", maxIDLen)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f' {
			return fmt.Errorf("id must not contain whitespace, control or bidirectional formatting characters (found %U)", r)
		}
	}
	return nil
}

// checkEscapes refuses \u escapes in JSON strings that encode no
// character (a lone UTF-16 surrogate): the decoder would silently turn
// them into U+FFFD.
func checkEscapes(body []byte) error {
	inString := false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case b == '"':
			inString = !inString
		case b == '\\' && inString && i+1 < len(body):
			i++
			if body[i] != 'u' {
				continue
			}
			r, ok := hex4(body, i+1)
			if !ok {
				continue // the decoder reports a bad escape itself
			}
			i += 4
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return errors.New("invalid JSON: a \\u escape is a lone low surrogate, not a character")
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := uint16(0), false
				if i+2 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
					lo, ok = hex4(body, i+3)
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return errors.New("invalid JSON: a \\u escape is a high surrogate without its low half, not a character")
				}
				i += 6
			}
		}
	}
	return nil
}

// hex4 reads four hex digits at body[i:].
func hex4(body []byte, i int) (uint16, bool) {
	if i+4 > len(body) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(body[i:i+4]), 16, 16)
	return uint16(v), err == nil
}

// jsonError says what is wrong with a body in JSON's words, never Go's
// (no "Go struct field Request.text of type string").
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		switch {
		case field == "":
			return fmt.Errorf("invalid JSON: the body must be an object, not %s", jsonKind(typeErr.Value))
		case field == "metadata" && typeErr.Type.Kind().String() == "string":
			return fmt.Errorf("invalid JSON: metadata values must be strings, not %s", jsonKind(typeErr.Value))
		}
		return fmt.Errorf("invalid JSON: %s must be %s, not %s", field, wantKind(typeErr.Type.Kind().String()), jsonKind(typeErr.Value))
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	case errors.As(err, &timeErr):
		return errors.New("invalid JSON: created_at must be an RFC 3339 time like 2026-11-23T10:00:00Z")
	case errors.Is(err, io.EOF):
		return errors.New("invalid JSON: the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: the body ends too early")
	}
	// Unknown fields and the rest: the decoder's words, without its prefix.
	return fmt.Errorf("invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a JSON value kind as the decoder reports it.
func jsonKind(v string) string {
	switch v {
	case "object", "array":
		return "an " + v
	case "":
		return "this value"
	}
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	return "a " + v
}

// wantKind names the JSON kind a field of Go kind k takes.
func wantKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a time (RFC 3339) or null"
	case "slice":
		return "an array"
	case "bool":
		return "true or false"
	}
	return "a number"
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
