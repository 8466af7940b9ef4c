package reroute

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/internal/opsauth"
)

// maxBody bounds a reroute request's body.
const maxBody = 16 << 10

// body is the JSON a reroute request carries.
type body struct {
	Team string   `json:"team"`
	Also []string `json:"also"`
	By   string   `json:"by"`
	Note string   `json:"note"`
}

// Handler serves POST /v1/messages/{id}/reroute with a JSON body
// {"team": "logistics", "also": [...], "by": "…", "note": "…"}: it
// reroutes the item and answers 200 with the Result as JSON. by defaults
// to the name of the ops token that made the request (and names it when
// both are given). Errors are JSON {"error": "..."}: 400 for a bad request
// or an unknown team, 404 for an unknown item, 410 for an item the ingest
// stream no longer holds, 503 when NATS fails. Mount it behind the ops
// token with the admin role:
//
//	mux.Handle("POST /v1/messages/{id}/reroute", ops.API(opsauth.RoleAdmin, reroute.Handler(rr)))
func Handler(rr *Rerouter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var b body
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&b); err != nil {
			writeError(w, http.StatusBadRequest, "the body must be JSON like {\"team\": \"logistics\", \"by\": \"…\", \"note\": \"…\"}: "+err.Error())
			return
		}
		by := strings.TrimSpace(b.By)
		if who, ok := opsauth.IdentityFrom(r.Context()); ok && who.Name != "" {
			switch {
			case by == "":
				by = who.Name
			case by != who.Name:
				by += " (token " + who.Name + ")"
			}
		}
		res, err := rr.Do(r.Context(), Request{ID: id, Team: b.Team, Also: b.Also, By: by, Note: b.Note})
		switch {
		case errors.Is(err, ErrBadRequest):
			writeError(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, ErrNotFound):
			writeError(w, http.StatusNotFound, err.Error())
		case errors.Is(err, ErrGone):
			writeError(w, http.StatusGone, err.Error())
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, err.Error())
		default:
			writeJSON(w, http.StatusOK, res)
		}
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
