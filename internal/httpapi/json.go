package httpapi

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers with status code and v as indented JSON, not to be
// cached. An error writing the body (the client gone) is ignored.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError answers with status code and {"error": msg} (see WriteJSON).
func WriteError(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, code, map[string]string{"error": msg})
}
