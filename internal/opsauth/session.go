package opsauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// session is one console login.
type session struct {
	id      Identity
	csrf    string
	expires time.Time
}

// sessions is the server-side session store: in memory, bounded, keyed
// by the hash of the cookie value (a memory dump shows no usable cookie).
// A restart logs everyone out.
type sessions struct {
	mu  sync.Mutex
	max int
	m   map[[sha256.Size]byte]*session
}

func newSessions(max int) *sessions {
	return &sessions{max: max, m: map[[sha256.Size]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

// start stores a new session and returns its cookie value.
func (s *sessions) start(id Identity, now time.Time, ttl time.Duration) (cookie string, ss *session) {
	cookie = randomToken()
	ss = &session{id: id, csrf: randomToken(), expires: now.Add(ttl)}
	key := sha256.Sum256([]byte(cookie))
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		s.evict(now)
	}
	s.m[key] = ss
	return cookie, ss
}

// evict drops expired sessions and, when that frees nothing, the one
// closest to expiry. Called with mu held.
func (s *sessions) evict(now time.Time) {
	var oldest [sha256.Size]byte
	var oldestAt time.Time
	for k, ss := range s.m {
		if !now.Before(ss.expires) {
			delete(s.m, k)
			continue
		}
		if oldestAt.IsZero() || ss.expires.Before(oldestAt) {
			oldest, oldestAt = k, ss.expires
		}
	}
	if len(s.m) >= s.max {
		delete(s.m, oldest)
	}
}

// get returns the live session of a cookie value.
func (s *sessions) get(cookie string, now time.Time) (*session, bool) {
	key := sha256.Sum256([]byte(cookie))
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[key]
	if !ok {
		return nil, false
	}
	if !now.Before(ss.expires) {
		delete(s.m, key)
		return nil, false
	}
	return ss, true
}

// end forgets a session.
func (s *sessions) end(cookie string) {
	key := sha256.Sum256([]byte(cookie))
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}

// len is the number of sessions kept (tests).
func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
