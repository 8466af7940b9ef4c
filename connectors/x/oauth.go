package x

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/secret"
	"go.uber.org/zap"
)

// TokenStore keeps the current OAuth 2.0 refresh token. X refresh tokens are
// single-use: each refresh returns a new one, which must be saved before the
// old one is forgotten, or the next start is refused.
type TokenStore interface {
	SaveRefreshToken(ctx context.Context, token string) error
}

// FileTokenStore writes the refresh token to Path, mode 0600: the same file
// the configuration reads it from at start. It replaces the file atomically
// (a temporary file renamed over it) when the directory is writable, and
// else rewrites the file in place.
type FileTokenStore struct{ Path string }

// SaveRefreshToken replaces the file's content with token.
func (f FileTokenStore) SaveRefreshToken(_ context.Context, token string) error {
	err := f.replace(token)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrPermission) {
		// The directory may be read-only while the file is writable (a
		// file prepared by an administrator): write it in place.
		if ierr := f.inPlace(token); ierr == nil {
			return nil
		}
	}
	return fmt.Errorf("saving the rotated X refresh token to %s: %w", f.Path, err)
}

func (f FileTokenStore) replace(token string) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".x-refresh-token-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after the rename
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(token + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(name, f.Path)
}

func (f FileTokenStore) inPlace(token string) error {
	fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.WriteString(token + "\n")
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// refreshMargin is how long before its expiry an access token is renewed.
const refreshMargin = 2 * time.Minute

// UserToken is an OAuth 2.0 user access token that renews itself with the
// refresh token (scope offline.access) and saves each rotated refresh token
// in its store. It implements Auth.
type UserToken struct {
	client       *Client
	clientID     string
	clientSecret string
	store        TokenStore
	log          *zap.Logger
	metrics      *Metrics
	now          func() time.Time
	// red learns every token X issues (nil: none is registered).
	red *secret.Redactor

	mu      sync.Mutex
	refresh string
	access  string
	expiry  time.Time
	saveErr error
}

// NewUserToken returns a token renewed through client's token endpoint,
// starting from refreshToken.
func NewUserToken(client *Client, clientID, clientSecret, refreshToken string, store TokenStore, log *zap.Logger, m *Metrics) *UserToken {
	return &UserToken{client: client, clientID: clientID, clientSecret: clientSecret, refresh: refreshToken,
		store: store, log: log, metrics: m, now: time.Now}
}

// Authorize sends a valid access token as a bearer token.
func (t *UserToken) Authorize(ctx context.Context, req *http.Request) error {
	tok, err := t.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Token returns a valid access token, refreshing it first when it is
// missing or about to expire.
func (t *UserToken) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access != "" && t.now().Add(refreshMargin).Before(t.expiry) {
		return t.access, nil
	}
	if t.refresh == "" {
		return "", &OAuthError{Code: "invalid_request", Description: "no refresh token"}
	}
	tr, err := t.client.RefreshToken(ctx, t.clientID, t.clientSecret, t.refresh)
	if err != nil {
		t.metrics.tokenRefresh("failed")
		return "", err
	}
	t.metrics.tokenRefresh("ok")
	t.red.Add(secret.Secret(tr.AccessToken), secret.Secret(tr.RefreshToken))
	if tr.RefreshToken != "" && tr.RefreshToken != t.refresh {
		t.refresh = tr.RefreshToken
		t.saveErr = t.store.SaveRefreshToken(ctx, tr.RefreshToken)
		if t.saveErr != nil {
			t.log.Error("could not save the rotated X refresh token; DMs keep working until the daemon restarts, "+
				"then X refuses the old token and the account must be re-authorized", zap.Error(t.saveErr))
		}
	}
	if !hasScope(tr.Scope, "dm.read") && tr.Scope != "" {
		t.log.Warn("the X user token lacks the dm.read scope; re-authorize with tweet.read users.read dm.read offline.access",
			zap.String("scope", tr.Scope))
	}
	expires := time.Duration(tr.ExpiresIn) * time.Second
	if expires <= 0 {
		expires = 2 * time.Hour // X's documented lifetime
	}
	t.access, t.expiry = tr.AccessToken, t.now().Add(expires)
	return t.access, nil
}

// String hides the tokens: a UserToken printed with %v or %+v shows no
// secret.
func (t *UserToken) String() string { return "X OAuth 2.0 user token [redacted]" }

// GoString hides the tokens from %#v.
func (t *UserToken) GoString() string { return t.String() }

// Invalidate drops the access token, so the next Token call refreshes it
// (after X refused it).
func (t *UserToken) Invalidate() {
	t.mu.Lock()
	t.access = ""
	t.mu.Unlock()
}

// SaveError returns why the last rotated refresh token could not be saved,
// or nil.
func (t *UserToken) SaveError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.saveErr
}

func hasScope(scopes, want string) bool {
	for _, s := range strings.Fields(scopes) {
		if s == want {
			return true
		}
	}
	return false
}
