package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// base is a valid file the delivery tests add a delivery section to.
const deliveryBase = "connectors:\n  intake:\n    enabled: false\n"

func TestDeliveryDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(deliveryBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Delivery
	want := Delivery{
		RetryMin: yamlfile.Duration(time.Second), RetryMax: yamlfile.Duration(5 * time.Minute),
		AttemptTimeout: yamlfile.Duration(15 * time.Second), MaxPending: 10000,
		Breaker:          Breaker{Failures: 5, Cooldown: yamlfile.Duration(30 * time.Second)},
		ThreadStickiness: ThreadStickiness{TTL: yamlfile.Duration(30 * 24 * time.Hour), Bucket: "switchboard_threads"},
		ProgressBucket:   "switchboard_delivery", DepthInterval: yamlfile.Duration(30 * time.Second),
		Webhook: Webhook{Timeout: yamlfile.Duration(10 * time.Second)},
		Redis: Redis{DialTimeout: yamlfile.Duration(2 * time.Second), ReadTimeout: yamlfile.Duration(3 * time.Second),
			WriteTimeout: yamlfile.Duration(3 * time.Second), DedupTTL: yamlfile.Duration(7 * 24 * time.Hour)},
	}
	if fmt.Sprintf("%+v", d) != fmt.Sprintf("%+v", want) {
		t.Fatalf("defaults\n got %+v\nwant %+v", d, want)
	}
	if !d.ThreadStickiness.On() {
		t.Fatal("stickiness off by default")
	}
}

func TestDeliveryParses(t *testing.T) {
	y := deliveryBase + `delivery:
  redis:
    url: redis://:${REDIS_PASSWORD}@redis.internal:6380/2
    pool_size: 20
    dial_timeout: 1s
    dedup_ttl: 14d
  webhook: {timeout: 4s}
  retry_min: 2s
  retry_max: 10m
  attempt_timeout: 20s
  max_pending: 500
  breaker: {failures: 3, cooldown: 1m}
  thread_stickiness: {enabled: false, ttl: 7d, bucket: threads}
  progress_bucket: progress
  depth_interval: 1m
`
	cfg, err := Parse("c.yaml", []byte(y), env(map[string]string{"REDIS_PASSWORD": "pa55word"}))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Delivery
	if d.Redis.URL.Reveal() != "redis://:pa55word@redis.internal:6380/2" || d.Redis.PoolSize != 20 ||
		d.Redis.DialTimeout != yamlfile.Duration(time.Second) || d.Redis.ReadTimeout != yamlfile.Duration(3*time.Second) ||
		d.Redis.DedupTTL != yamlfile.Duration(14*24*time.Hour) {
		t.Errorf("redis %+v", d.Redis)
	}
	if d.Webhook.Timeout != yamlfile.Duration(4*time.Second) || d.RetryMin != yamlfile.Duration(2*time.Second) ||
		d.RetryMax != yamlfile.Duration(10*time.Minute) || d.AttemptTimeout != yamlfile.Duration(20*time.Second) ||
		d.MaxPending != 500 || d.Breaker.Failures != 3 || d.Breaker.Cooldown != yamlfile.Duration(time.Minute) ||
		d.ThreadStickiness.On() || d.ThreadStickiness.TTL != yamlfile.Duration(7*24*time.Hour) || d.ThreadStickiness.Bucket != "threads" ||
		d.ProgressBucket != "progress" || d.DepthInterval != yamlfile.Duration(time.Minute) {
		t.Errorf("delivery %+v", d)
	}
	// The password never prints: not with %v, not in JSON.
	js, _ := json.Marshal(cfg)
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", d.Redis), string(js)} {
		if strings.Contains(s, "pa55word") {
			t.Fatalf("password printed: %s", s)
		}
	}
}

func TestDeliveryRedisURLFile(t *testing.T) {
	dir := secretFiles(t, map[string]string{"redis-url": "redis://:filepass@127.0.0.1:6379/0\n"})
	y := deliveryBase + "delivery:\n  redis:\n    url_file: redis-url\n"
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Delivery.Redis.URL.Reveal() != "redis://:filepass@127.0.0.1:6379/0" {
		t.Fatalf("url from file: %q", cfg.Delivery.Redis.URL.Reveal())
	}
	// A bad URL read from a file is reported at url_file, without the URL.
	if err := os.WriteFile(filepath.Join(dir, "bad-url"), []byte("http://:filepass@h/0"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Parse(filepath.Join(dir, "c.yaml"), []byte(deliveryBase+"delivery:\n  redis:\n    url_file: bad-url\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:6:15: redis url scheme must be redis, rediss or unix") || strings.Contains(err.Error(), "filepass") {
		t.Fatalf("bad url from file: %v", err)
	}
}

func TestDeliveryErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"retry order", "delivery:\n  retry_min: 1m\n  retry_max: 1s\n", "c.yaml:6:14: retry_max (1s) cannot be less than retry_min (1m0s)"},
		{"negative retry", "delivery:\n  retry_min: -1s\n", "c.yaml:5:14: retry_min cannot be negative"},
		{"attempt timeout", "delivery:\n  attempt_timeout: 10m\n", "c.yaml:5:20: attempt_timeout must be at most 5m"},
		{"max pending", "delivery:\n  max_pending: -3\n", "c.yaml:5:16: max_pending must be between 1 and 1000000"},
		{"breaker failures", "delivery:\n  breaker:\n    failures: -1\n", "c.yaml:6:15: breaker failures must be at least 1"},
		{"webhook timeout", "delivery:\n  webhook:\n    timeout: 6m\n", "c.yaml:6:14: webhook timeout must be between 1ms and 5m"},
		{"bucket name", "delivery:\n  progress_bucket: 'a b'\n", `c.yaml:5:20: progress_bucket "a b": use letters, digits`},
		{"same buckets", "delivery:\n  progress_bucket: x\n  thread_stickiness: {bucket: x}\n", "c.yaml:5:20: progress_bucket and thread_stickiness bucket must differ"},
		{"short thread ttl", "delivery:\n  thread_stickiness:\n    ttl: 10s\n", "c.yaml:6:10: thread_stickiness ttl must be at least 1m"},
		{"short dedup ttl", "delivery:\n  redis:\n    dedup_ttl: 5m\n", "c.yaml:6:16: dedup_ttl must be at least 1h"},
		{"pool size", "delivery:\n  redis:\n    pool_size: -1\n", "c.yaml:6:16: pool_size must be between 0"},
		{"redis scheme", "delivery:\n  redis:\n    url: http://user:hunter2@h:1/0\n", "c.yaml:6:10: redis url scheme must be redis, rediss or unix"},
		{"redis no host", "delivery:\n  redis:\n    url: 'redis:///0'\n", "c.yaml:6:10: redis url needs a host"},
		{"redis unparseable", "delivery:\n  redis:\n    url: 'redis://hunter2@[::1'\n", "c.yaml:6:10: redis url is not a valid URL"},
		{"unix without path", "delivery:\n  redis:\n    url: 'unix://'\n", "c.yaml:6:10: unix redis url needs a socket path"},
		{"url and file", "delivery:\n  redis:\n    url: redis://h:1\n    url_file: /x\n", "c.yaml:6:10: set url or url_file, not both"},
		{"unknown key", "delivery:\n  redis:\n    adress: x\n", `c.yaml:6:5: unknown field "adress"`},
		{"enabled not a bool", "delivery:\n  thread_stickiness:\n    enabled: maybe\n", "c.yaml:6:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(deliveryBase+tt.yaml), noEnv)
			wantError(t, err, tt.want)
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestDeliveryValidURLs(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/0", "rediss://user:pw@redis.example.com:6380/1", "unix:///run/redis.sock", "redis://localhost"} {
		if msg := checkRedisURL(u); msg != "" {
			t.Errorf("%s: %s", u, msg)
		}
	}
}

func FuzzCheckRedisURL(f *testing.F) {
	for _, s := range []string{"redis://:pw@h:1/0", "unix:///x", "http://x", "redis://[::1", ":", "rediss://u:p@h"} {
		f.Add(s)
	}
	known := map[string]bool{"": true}
	for _, raw := range []string{"redis://[::1", "redis:///0", "unix://", "http://x"} {
		known[checkRedisURL(raw)] = true
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// Only fixed messages: nothing of the URL (or its password) is echoed.
		if msg := checkRedisURL(raw); !known[msg] {
			t.Fatalf("unexpected message %q for %q", msg, raw)
		}
	})
}
