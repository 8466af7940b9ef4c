// Package redistest gives tests a real Redis: the one at REDIS_URL when it
// is set (CI sets it), otherwise a redis-server from PATH started on a free
// port with a temporary directory. Without either, the test is skipped with
// a loud message on stderr, never silently.
//
// Every test gets its own key prefix; keys containing it are deleted when
// the test ends, so tests can share one server.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard/switchboard/internal/testwait"
)

// Redis is a Redis for one test.
type Redis struct {
	// URL is the server's redis:// URL.
	URL string
	// Client is connected to URL; it is closed when the test ends.
	Client *redis.Client
	// Prefix is unique to the test: name every key the test writes with it
	// (Key). Keys containing it anywhere, such as hash-tagged
	// "{<prefix>stream}:..." keys, are deleted when the test ends.
	Prefix string
}

// Key returns Prefix + name.
func (r *Redis) Key(name string) string { return r.Prefix + name }

// New returns a Redis for t: REDIS_URL when set, else its own redis-server
// (stopped when the test ends), else it skips t loudly.
func New(t testing.TB) *Redis {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = StartServer(t).URL
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redistest: REDIS_URL is not a redis URL: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("redistest: Redis at REDIS_URL does not answer PING: %v", err)
	}
	r := &Redis{URL: url, Client: c, Prefix: "sbtest:" + sanitize(t.Name()) + ":" + randomHex(4) + ":"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := DeleteMatching(ctx, c, "*"+r.Prefix+"*"); err != nil {
			t.Logf("redistest: cleaning up keys of %s: %v", r.Prefix, err)
		}
		_ = c.Close()
	})
	return r
}

// DeleteMatching deletes every key matching the SCAN pattern.
func DeleteMatching(ctx context.Context, c *redis.Client, pattern string) error {
	iter := c.Scan(ctx, 0, pattern, 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// Server is a redis-server subprocess owned by one test, for fault tests
// that stop and restart Redis. Its data survives Kill and Start: it writes
// an append-only file synced on every write.
type Server struct {
	// Addr is host:port; URL is redis://Addr/0. Both stay the same across
	// restarts.
	Addr, URL string

	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// StartServer starts a redis-server from PATH on a free loopback port with
// a temporary directory, and kills it when the test ends. It skips t loudly
// when there is no redis-server.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "SKIPPING " + t.Name() + ": no Redis to test against: REDIS_URL is not set and redis-server is not on PATH " +
			"(install redis-server, or set REDIS_URL=redis://127.0.0.1:6379/0; CI sets it, so CI never skips)"
		fmt.Fprintln(os.Stderr, "!!!", msg)
		t.Skip(msg)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	s.URL = "redis://" + s.Addr + "/0"
	t.Cleanup(s.Kill)
	s.Start()
	return s
}

// Start starts the server (again) on its port and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("redistest: server already running")
	}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--daemonize", "no", "--protected-mode", "no", "--logfile", filepath.Join(s.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redistest: starting redis-server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(s.done)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	testwait.NoError(s.t, 10*time.Second, "redis-server on "+s.Addr+" to answer", func() error {
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.cmd = nil
			s.t.Fatalf("redistest: redis-server exited at start: %s", tail(string(log), 2000))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		return c.Ping(ctx).Err()
	})
}

// Kill stops the server with SIGKILL (like a crash) and waits for it to
// exit. It is a no-op when the server is not running.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	testwait.Closed(s.t, 10*time.Second, fmt.Sprintf("redis-server (pid %d) to exit after SIGKILL", s.cmd.Process.Pid), s.done)
	s.cmd = nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func sanitize(name string) string {
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, name)
	if len(name) > 60 {
		name = name[:60]
	}
	return name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
