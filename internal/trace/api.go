package trace

import (
	"errors"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/internal/httpapi"
	"github.com/switchboard/switchboard/router/decisions"
)

// GetHandler serves GET /v1/messages/{id}: the item's trace as JSON (mount
// it with the pattern "GET /v1/messages/{id...}" so ids holding '/' work).
func GetHandler(f Finder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if id == "" {
			httpapi.WriteError(w, http.StatusBadRequest, "the item id is missing: GET /v1/messages/{id}")
			return
		}
		t, err := f.Trace(r.Context(), id)
		switch {
		case errors.Is(err, decisions.ErrNotFound):
			httpapi.WriteError(w, http.StatusNotFound, "no decision record for "+id+" (not routed yet, expired, or not an item id)")
			return
		case err != nil:
			httpapi.WriteError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, t)
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
			httpapi.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		p, err := f.Search(r.Context(), q)
		if err != nil {
			httpapi.WriteError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, p)
	})
}
