package redistest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestNewGivesAPrefixAndCleansUp(t *testing.T) {
	var (
		prefix string
		c      *redis.Client
		url    string
	)
	t.Run("inner", func(t *testing.T) {
		r := New(t)
		prefix, url = r.Prefix, r.URL
		if !strings.HasPrefix(prefix, "sbtest:TestNewGivesAPrefixAndCleansUp_inner:") {
			t.Fatalf("prefix %q", prefix)
		}
		ctx := context.Background()
		for _, k := range []string{r.Key("a"), "{" + r.Key("stream") + "}:dedup:x"} {
			if err := r.Client.Set(ctx, k, "1", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if t.Skipped() || prefix == "" {
		return
	}
	opts, _ := redis.ParseURL(url)
	c = redis.NewClient(opts)
	defer c.Close()
	keys, err := c.Keys(context.Background(), "*"+prefix+"*").Result()
	if err != nil {
		// The inner test's own server is gone: its cleanup stopped it.
		return
	}
	if len(keys) != 0 {
		t.Fatalf("keys left after the test: %v", keys)
	}
}

func TestServerSurvivesKillAndStart(t *testing.T) {
	s := StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	ctx := context.Background()
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"k", "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping answered after Kill")
	}
	s.Kill() // idempotent
	s.Start()
	if n, err := c.XLen(ctx, "s").Result(); err != nil || n != 1 {
		t.Fatalf("after restart XLEN %d (%v), want 1: the append-only file must keep it", n, err)
	}
}

func TestSkipsWithoutRedis(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("PATH", t.TempDir()) // no redis-server anywhere
	skipped := false
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		New(t)
		t.Error("New returned without Redis")
	})
	if !skipped {
		t.Fatal("the test was not skipped")
	}
}
