package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/connectors"
)

// guard admits requests with "Authorization: Bearer ops".
func guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer ops" {
			http.Error(w, "ops token needed", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestEndpointsAndTheirAuth(t *testing.T) {
	var problems []Problem
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_test_total", Help: "a test counter"}))
	mux := NewMux(Options{
		Checks: Checks{
			Ready: func(context.Context) []Problem { return problems },
			Statuses: func() []connectors.Status {
				return []connectors.Status{{Name: "facebook.111", LastError: "page 111: token expired"}}
			},
		},
		Registry: reg,
		Guard:    guard,
	})
	get := func(path, token string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	tests := []struct {
		name, path, token string
		problems          []Problem
		code              int
		want, never       string
	}{
		{"healthz needs nothing", "/healthz", "", nil, 200, `"ok"`, ""},
		{"ready", "/readyz", "", nil, 200, `"ready"`, "reason"},
		{"not ready: reasons only", "/readyz", "", []Problem{{"connectors starting", "waiting for facebook.111"}, {"connectors starting", "x"}, {"store full", "nats: insufficient resources"}},
			503, `"reason": "connectors starting; store full"`, "facebook.111"},
		{"details need the token", "/readyz?verbose", "", []Problem{{"store full", "detail"}}, 401, "ops token", "detail"},
		{"details with the token", "/readyz?verbose", "ops", []Problem{{"connectors starting", "waiting for facebook.111"}}, 503, `"detail": "waiting for facebook.111"`, ""},
		{"verbose when ready", "/readyz?verbose=1", "ops", nil, 200, `"problems": []`, ""},
		{"metrics need the token", "/metrics", "", nil, 401, "ops token", "switchboard_test_total"},
		{"metrics with the token", "/metrics", "ops", nil, 200, "switchboard_test_total 0", ""},
		{"connectors need the token", "/v1/connectors", "", nil, 401, "ops token", "token expired"},
		{"connectors with the token", "/v1/connectors", "ops", nil, 200, `"facebook.111"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems = tt.problems
			code, body := get(tt.path, tt.token)
			if code != tt.code || !strings.Contains(body, tt.want) || (tt.never != "" && strings.Contains(body, tt.never)) {
				t.Fatalf("GET %s: %d %s\nwant %d with %q and without %q", tt.path, code, body, tt.code, tt.want, tt.never)
			}
		})
	}
	problems = nil
	_, body := get("/readyz", "")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil || len(m) != 1 {
		t.Fatalf("a ready answer says only that: %s", body)
	}
}
