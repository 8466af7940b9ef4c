package targets

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/redistest"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/targetspec"
)

func routed(id, team string) *message.Routed {
	return &message.Routed{Envelope: message.Envelope{Version: 1, ID: id, Channel: "web", Kind: message.KindWeb, SourceID: strings.TrimPrefix(id, "web:"), Text: "x"}, Team: team, Priority: "normal"}
}

func TestRedisDeliversOnce(t *testing.T) {
	rd := redistest.New(t)
	ctx := context.Background()
	r, err := NewRedis(rd.Client, "billing", targetspec.Spec{Stream: rd.Key("team:billing")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	item := routed("web:1", "billing")
	data, _ := json.Marshal(item)
	for i, wantDup := range []bool{false, true, true} {
		dup, err := r.deliver(ctx, item, data)
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if dup != wantDup {
			t.Fatalf("delivery %d: duplicate %v, want %v", i, dup, wantDup)
		}
	}
	// The same envelope for another team is another item.
	other := routed("web:1", "sales")
	if dup, err := r.deliver(ctx, other, data); err != nil || dup {
		t.Fatalf("other team: dup %v err %v", dup, err)
	}
	entries, err := rd.Client.XRange(ctx, r.Stream(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("%d entries, want 2", len(entries))
	}
	v := entries[0].Values
	if v["id"] != "web:1" || v["team"] != "billing" || v["priority"] != "normal" || v["data"] != string(data) {
		t.Fatalf("entry fields %v", v)
	}
	ttl, err := rd.Client.PTTL(ctx, r.DedupKey(item)).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Fatalf("dedup key ttl %s (%v)", ttl, err)
	}
	if n, err := r.Depth(ctx, "billing"); err != nil || n != 2 {
		t.Fatalf("depth %d (%v)", n, err)
	}
	if r.Name() != "redis:"+rd.Key("team:billing") {
		t.Fatalf("name %q", r.Name())
	}
}

func TestRedisMaxLenCapsApproximately(t *testing.T) {
	rd := redistest.New(t)
	ctx := context.Background()
	r, err := NewRedis(rd.Client, "t", targetspec.Spec{Stream: rd.Key("capped"), MaxLen: 10}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		it := routed("web:"+string(rune('a'+i%26))+strings.Repeat("x", i/26), "t")
		if err := r.Deliver(ctx, it, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := rd.Client.XLen(ctx, r.Stream()).Result()
	// MAXLEN ~ trims whole macro nodes (100 entries by default): far below 500.
	if n < 10 || n > 200 {
		t.Fatalf("XLEN %d after 500 adds with maxlen ~10", n)
	}
}

func TestRedisWrongTypeIsPermanent(t *testing.T) {
	rd := redistest.New(t)
	ctx := context.Background()
	key := rd.Key("not-a-stream")
	if err := rd.Client.Set(ctx, key, "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	r, _ := NewRedis(rd.Client, "t", targetspec.Spec{Stream: key}, 0)
	err := r.Deliver(ctx, routed("web:1", "t"), []byte(`{}`))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), key) {
		t.Fatalf("want a permanent error naming the stream, got %v", err)
	}
}

func TestRedisDownIsTransientAndQuick(t *testing.T) {
	srv := redistest.StartServer(t)
	c, err := NewRedisClient(config.Redis{URL: secret.Secret(srv.URL), DialTimeout: 200 * 1e6, ReadTimeout: 200 * 1e6, WriteTimeout: 200 * 1e6})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, _ := NewRedis(c, "t", targetspec.Spec{Stream: "s"}, 0)
	ctx := context.Background()
	if err := r.Deliver(ctx, routed("web:1", "t"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	err = r.Deliver(actx, routed("web:2", "t"), []byte(`{}`))
	cancel()
	if err == nil || IsPermanent(err) {
		t.Fatalf("redis down: want a transient error, got %v", err)
	}
	if took := time.Since(start); took > 2500*time.Millisecond {
		t.Fatalf("failing took %s", took)
	}
	srv.Start()
	if err := r.Deliver(ctx, routed("web:2", "t"), []byte(`{}`)); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if err := r.Deliver(ctx, routed("web:1", "t"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	// The append-only file kept the first item and its dedup key.
	if n, _ := c.XLen(ctx, "s").Result(); n != 2 {
		t.Fatalf("XLEN %d after restart, want 2", n)
	}
}

func TestNewRedisRejects(t *testing.T) {
	if _, err := NewRedis(nil, "t", targetspec.Spec{Stream: "a{b}"}, 0); err == nil || !strings.Contains(err.Error(), "hash tag") {
		t.Errorf("braces: %v", err)
	}
	if _, err := NewRedis(nil, "t", targetspec.Spec{MaxLen: -1}, 0); err == nil || !strings.Contains(err.Error(), "maxlen") {
		t.Errorf("negative maxlen: %v", err)
	}
	r, err := NewRedis(nil, "billing", targetspec.Spec{}, 0)
	if err != nil || r.Stream() != "switchboard:team:billing" || r.ttl != DefaultDedupTTL {
		t.Errorf("defaults: %v %+v", err, r)
	}
}

func TestRedisURLErrorsHideThePassword(t *testing.T) {
	tests := []string{
		"redis://user:hunter2pw@127.0.0.1:notaport/0",
		"redis://:hunter2pw@127.0.0.1:6379/notadb",
		"ftp://user:hunter2pw@host/0",
		"redis://user:hunter2pw@[::1/0",
	}
	for _, u := range tests {
		_, err := NewRedisClient(config.Redis{URL: secret.Secret(u)})
		if err == nil {
			t.Errorf("%s: no error", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2pw") {
			t.Errorf("error leaks the password: %v", err)
		}
		if !strings.Contains(err.Error(), "delivery.redis.url") {
			t.Errorf("error does not say what: %v", err)
		}
	}
	c, err := NewRedisClient(config.Redis{URL: "rediss://u:p@redis.example.com:6380/2", PoolSize: 3, DialTimeout: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.Options()
	if o.DB != 2 || o.PoolSize != 3 || o.TLSConfig == nil || o.DialTimeout != time.Second || !o.ContextTimeoutEnabled {
		t.Fatalf("options %+v", o)
	}
}

func TestFactory(t *testing.T) {
	f := &Factory{NATS: &NATS{}}
	if _, err := f.New("billing", targetspec.Spec{Type: targetspec.Redis, Stream: "s"}); err == nil || !strings.Contains(err.Error(), "delivery.redis.url is not set") || !strings.Contains(err.Error(), "team billing") {
		t.Errorf("redis without client: %v", err)
	}
	if _, err := f.New("billing", targetspec.Spec{Type: "carrier-pigeon"}); err == nil || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Errorf("unknown type: %v", err)
	}
	if tg, err := f.New("billing", targetspec.Spec{Type: targetspec.NATS}); err != nil || tg.Name() != "nats" {
		t.Errorf("nats: %v", err)
	}
	f.WebhookTimeout = 3 * time.Second
	tg, err := f.New("billing", targetspec.Spec{Type: targetspec.Webhook, URL: "https://h.example/x"})
	if err != nil || tg.(*Webhook).timeout != 3*time.Second {
		t.Errorf("webhook default timeout: %v", err)
	}
	if _, err := f.New("billing", targetspec.Spec{Type: targetspec.Webhook, URL: "http://h.example/sekret"}); err == nil || strings.Contains(err.Error(), "sekret") {
		t.Errorf("bad webhook: %v", err)
	}
}

func FuzzRedisURLErrorsHidePassword(f *testing.F) {
	f.Add("127.0.0.1:notaport/0", "hunter2pw")
	f.Add("[::1/0", "s3cr3t-pass")
	f.Add("h:6379/x?dial_timeout=zz", "pa55word")
	f.Add("%zz", "pa55word")
	f.Fuzz(func(t *testing.T, rest, pw string) {
		if len(pw) < 6 || strings.ContainsAny(pw, "@/:?#[]%") || strings.Contains(rest, pw) {
			return
		}
		_, err := RedisOptions("redis://user:" + pw + "@" + rest)
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Fatalf("error leaks the password: %v", err)
		}
	})
}
