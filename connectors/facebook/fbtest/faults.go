package fbtest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// GraphError is the body of a Graph API error.
type GraphError struct {
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode,omitempty"`
	IsTransient bool   `json:"is_transient"`
	TraceID     string `json:"fbtrace_id"`
}

// Fault is an answer the fake gives instead of the real one.
type Fault struct {
	Status int
	Error  *GraphError
	// Body replaces the error object when set (e.g. an HTML error page).
	Body   string
	Header http.Header
	// Sticky faults answer every later request too, until ClearFaults.
	Sticky bool
}

// TokenExpired is the answer to an expired or invalidated token.
func TokenExpired(subcode int) Fault {
	return Fault{Status: http.StatusBadRequest, Error: &GraphError{
		Message: "Error validating access token: Session has expired on Friday, 20-Nov-26 10:00:00 PST.",
		Type:    "OAuthException", Code: 190, Subcode: subcode, TraceID: "AmFGcW_3hwDB7qFbl_QdebZ",
	}}
}

// PermissionDenied is the answer to a token without a needed permission.
func PermissionDenied() Fault {
	return Fault{Status: http.StatusForbidden, Error: &GraphError{
		Message: "(#200) Requires pages_read_user_content permission to manage the object",
		Type:    "OAuthException", Code: 200, TraceID: "Bx1pXv8wQ2c",
	}}
}

// RateLimited is a rate-limit error with the given code, and a
// X-Business-Use-Case-Usage header saying access returns in regainMinutes.
func RateLimited(pageID string, code, regainMinutes int) Fault {
	h := http.Header{}
	h.Set("X-Business-Use-Case-Usage", fmt.Sprintf(
		`{"%s":[{"type":"pages","call_count":100,"total_cputime":40,"total_time":45,"estimated_time_to_regain_access":%d}]}`, pageID, regainMinutes))
	return Fault{Status: http.StatusBadRequest, Header: h, Error: &GraphError{
		Message: fmt.Sprintf("(#%d) There have been too many calls to this Page account. Wait a bit and try again.", code),
		Type:    "OAuthException", Code: code, TraceID: "AmFGcW_3hwDB7qFbl_QdebZ",
	}}
}

// Transient is a temporary server-side failure.
func Transient() Fault {
	return Fault{Status: http.StatusInternalServerError, Error: &GraphError{
		Message: "An unexpected error has occurred. Please retry your request later.",
		Type:    "OAuthException", Code: 2, IsTransient: true, TraceID: "C9pQy1Lk0aZ",
	}}
}

func writeFault(w http.ResponseWriter, f Fault) {
	for k, vs := range f.Header {
		w.Header()[k] = vs
	}
	if f.Body != "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}
	writeError(w, f.Status, *f.Error)
}

func writeError(w http.ResponseWriter, status int, e GraphError) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}
