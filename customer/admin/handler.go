package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/internal/httpapi"
	"github.com/switchboard/switchboard/internal/opsauth"
)

// maxBody bounds a request body.
const maxBody = 4 << 10

// Guard puts a handler behind the ops token with a role (opsauth.Auth.API).
type Guard interface {
	API(need opsauth.Role, h http.Handler) http.Handler
}

// Mount serves the customer endpoints on mux, behind guard:
//
//	GET  /v1/customers/{key}     the customer holding key, with cases (read-only)
//	POST /v1/customers/link      {"keys": [a, b]}: ops know they are one (admin)
//	POST /v1/customers/unlink    {"keys": [a, b]}: linked by mistake (admin)
//	POST /v1/customers/forget    {"key": k, "messages": true}: erasure (admin)
//
// Answers are JSON; errors are {"error": "..."} with 400 (a bad key or
// body), 404 (no customer has the key), 409 (a shared key, or keys that
// are not linked) or 503.
func Mount(mux *http.ServeMux, guard Guard, a *Admin) {
	mux.Handle("GET /v1/customers/{key}", guard.API(opsauth.RoleReadOnly, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Show(r.Context(), r.PathValue("key"))
		answer(w, p, err)
	})))
	mux.Handle("POST /v1/customers/link", guard.API(opsauth.RoleAdmin, pair(func(ctx context.Context, x, y string) (any, error) {
		c, changes, err := a.Link(ctx, x, y)
		return map[string]any{"customer": c, "changes": changes}, err
	})))
	mux.Handle("POST /v1/customers/unlink", guard.API(opsauth.RoleAdmin, pair(func(ctx context.Context, x, y string) (any, error) {
		changes, err := a.Unlink(ctx, x, y)
		return map[string]any{"changes": changes}, err
	})))
	mux.Handle("POST /v1/customers/forget", guard.API(opsauth.RoleAdmin, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Key      string `json:"key"`
			Messages bool   `json:"messages"`
		}
		if !decode(w, r, &b) {
			return
		}
		out, err := a.Forget(r.Context(), b.Key, b.Messages)
		answer(w, out, err)
	})))
}

// pair serves a POST whose body names two keys.
func pair(do func(ctx context.Context, x, y string) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Keys []string `json:"keys"`
		}
		if !decode(w, r, &b) {
			return
		}
		if len(b.Keys) != 2 {
			httpapi.WriteError(w, http.StatusBadRequest, `give two keys: {"keys": ["email:a@example.fi", "x:2001"]}`)
			return
		}
		v, err := do(r.Context(), b.Keys[0], b.Keys[1])
		answer(w, v, err)
	})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "the body must be JSON: "+err.Error())
		return false
	}
	return true
}

// answer writes v, or err with its status.
func answer(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		httpapi.WriteJSON(w, http.StatusOK, v)
	case errors.Is(err, customer.ErrUnknownKey):
		httpapi.WriteError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, customer.ErrSharedKey), errors.Is(err, customer.ErrNotLinked):
		httpapi.WriteError(w, http.StatusConflict, err.Error())
	case isKeyError(err):
		httpapi.WriteError(w, http.StatusBadRequest, err.Error())
	default:
		httpapi.WriteError(w, http.StatusServiceUnavailable, err.Error())
	}
}

// isKeyError reports a key that does not parse.
func isKeyError(err error) bool {
	var ke *KeyError
	return errors.As(err, &ke)
}
