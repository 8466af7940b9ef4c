package trace

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/router/decisions"
)

// GetHandler serves GET /v1/messages/{id}: the item's trace as JSON (mount
// it with the pattern "GET /v1/messages/{id...}" so ids holding '/' work).
func GetHandler(f Finder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if id == "" {
			writeError(w, http.StatusBadRequest, "the item id is missing: GET /v1/messages/{id}")
			return
		}
		t, err := f.Trace(r.Context(), id)
		switch {
		case errors.Is(err, decisions.ErrNotFound):
			writeError(w, http.StatusNotFound, "no decision record for "+id+" (not routed yet, expired, or not an item id)")
			return
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, t)
	})
}

// SearchHandler serves GET /v1/messages?team=&channel=&q=&since=&until=&limit=&before=
// (see ParseQuery): a page of decision records, newest change first; the
// page's next value continues it as before=.
func SearchHandler(f Finder, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := ParseQuery(r.URL.Query(), now())
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		p, err := f.Search(r.Context(), q)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
