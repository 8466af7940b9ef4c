package responses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
)

// Signal is a team tool's report that an item was handled, for what no
// channel shows (a phone call, a reply from a personal mailbox) or for
// items that need no answer.
type Signal struct {
	// Status is responded (default), resolved or no_response_needed.
	Status string `json:"status,omitempty"`
	// By names who handled it (a person or a tool).
	By string `json:"by"`
	// Note says more, for the record.
	Note string `json:"note,omitempty"`
}

// Errors of MarkHandled.
var (
	// ErrUnknownItem: the id is not a routed item.
	ErrUnknownItem = errors.New("no routed item with this id")
	// ErrBadSignal: the signal itself is wrong (status, by, note).
	ErrBadSignal = errors.New("bad signal")
)

// RecordGetter reads decision records (decisions.Store).
type RecordGetter interface {
	Get(ctx context.Context, id string) (*decisions.Record, error)
}

// ResponsePublisher publishes responses (Publisher).
type ResponsePublisher interface {
	Publish(ctx context.Context, r *message.Response) (duplicate bool, err error)
}

// maxNote bounds a signal's note.
const maxNote = 1000

// MarkHandled checks that id is a routed item and publishes s as a
// response on <prefix>.response.handled, with id "handled:<id>:<status>":
// the same signal twice is stored once. The tracker records it as the
// item's first response if it has none, else as a history event.
func MarkHandled(ctx context.Context, records RecordGetter, pub ResponsePublisher, id string, s Signal, at time.Time) (r *message.Response, duplicate bool, err error) {
	if s.Status == "" {
		s.Status = message.StatusResponded
	}
	switch s.Status {
	case message.StatusResponded, message.StatusResolved, message.StatusNoResponseNeeded:
	default:
		return nil, false, fmt.Errorf("%w: status %q: use responded, resolved or no_response_needed", ErrBadSignal, s.Status)
	}
	s.By, s.Note = strings.TrimSpace(s.By), strings.TrimSpace(s.Note)
	if s.By == "" {
		return nil, false, fmt.Errorf("%w: by: say who handled the item", ErrBadSignal)
	}
	if len(s.By) > 200 || len(s.Note) > maxNote {
		return nil, false, fmt.Errorf("%w: by is limited to 200 bytes and note to %d", ErrBadSignal, maxNote)
	}
	if !printable(id) {
		// An envelope id is printable ASCII; anything else (from a URL
		// path) must not reach a message header.
		return nil, false, fmt.Errorf("%q: %w", id, ErrUnknownItem)
	}
	rec, err := records.Get(ctx, id)
	if errors.Is(err, decisions.ErrNotFound) {
		return nil, false, fmt.Errorf("%s: %w", id, ErrUnknownItem)
	}
	if err != nil {
		return nil, false, err
	}
	if !awaits(rec) {
		return nil, false, fmt.Errorf("%s was not routed to a team (%s): %w", id, rec.Outcome, ErrUnknownItem)
	}
	source := id + ":" + s.Status
	r = &message.Response{
		Version: message.SchemaVersion, ID: message.MakeID(HandledChannel, source), Channel: HandledChannel,
		Kind: HandledChannel, SourceID: source, InReplyTo: id, By: s.By, At: at.UTC(), Status: s.Status, Note: s.Note,
	}
	dup, err := pub.Publish(ctx, r)
	if err != nil {
		return nil, false, err
	}
	return r, dup, nil
}

// HandledHandler serves POST /v1/messages/{id}/handled: a JSON Signal in
// the body marks the item handled (202 with the response id; the same
// signal again is accepted again and stored once), 404 for an unknown id,
// 400 for a bad body. Mount it on that pattern (the id is the {id} path
// value, URL-escaped); authentication is the mounting mux's job.
func HandledHandler(records RecordGetter, pub ResponsePublisher, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
			return
		}
		id := r.PathValue("id")
		if id == "" {
			id = idFromPath(r.URL.EscapedPath())
		}
		if id == "" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "want /v1/messages/{id}/handled"})
			return
		}
		var s Signal
		dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body: want JSON {\"status\", \"by\", \"note\"}: " + err.Error()})
			return
		}
		resp, dup, err := MarkHandled(r.Context(), records, pub, id, s, now())
		switch {
		case errors.Is(err, ErrUnknownItem):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case errors.Is(err, ErrBadSignal):
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		case err != nil:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "storing the signal failed; try again"})
		default:
			writeJSON(w, http.StatusAccepted, map[string]any{"id": resp.ID, "item": id, "status": resp.Status, "duplicate": dup})
		}
	})
}

// printable reports whether id is non-empty printable ASCII without spaces.
func printable(id string) bool {
	if id == "" || len(id) > 1000 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] >= 0x7f {
			return false
		}
	}
	return true
}

// idFromPath takes the id out of an escaped .../messages/<id>/handled.
func idFromPath(p string) string {
	rest, ok := strings.CutSuffix(p, "/handled")
	if !ok {
		return ""
	}
	i := strings.LastIndex(rest, "/messages/")
	if i < 0 {
		return ""
	}
	id, err := url.PathUnescape(rest[i+len("/messages/"):])
	if err != nil {
		return ""
	}
	return id
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
