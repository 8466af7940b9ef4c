package config

import (
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Delivery configures how routed items reach the team queues that teams'
// targets (declared in the rules file) name: the Redis server, webhook
// defaults, retries, isolation of failing targets and thread stickiness.
// Zero values are replaced by the defaults documented on each field.
type Delivery struct {
	// Redis is the server every redis target writes to.
	Redis Redis `yaml:"redis"`
	// Webhook holds defaults for webhook targets.
	Webhook Webhook `yaml:"webhook"`
	// RetryMin is the delay before the first retry of an item a target did
	// not accept (default 1s); it doubles per attempt up to RetryMax
	// (default 5m). A Retry-After from a webhook is honoured up to RetryMax.
	RetryMin yamlfile.Duration `yaml:"retry_min"`
	RetryMax yamlfile.Duration `yaml:"retry_max"`
	// AttemptTimeout bounds one delivery attempt to one target (default 15s);
	// a webhook's own, shorter timeout applies first.
	AttemptTimeout yamlfile.Duration `yaml:"attempt_timeout"`
	// MaxPending caps ingest messages in flight: being delivered or waiting
	// for a retry (default 10000). Items waiting for a failing target count
	// here, so it must hold a whole outage's worth of one team's traffic
	// without stalling the other teams.
	MaxPending int `yaml:"max_pending"`
	// Breaker stops calling a target that keeps failing, so that workers are
	// not tied up by it.
	Breaker Breaker `yaml:"breaker"`
	// ThreadStickiness sends follow-ups of a thread to the thread's team.
	ThreadStickiness ThreadStickiness `yaml:"thread_stickiness"`
	// ProgressBucket is the JetStream key-value bucket that remembers, for an
	// item being retried, its routing decision and which targets already
	// accepted it (default "switchboard_delivery").
	ProgressBucket string `yaml:"progress_bucket"`
	// DepthInterval is how often queue depths and the JetStream store's
	// usage are read for the metrics (default 30s).
	DepthInterval yamlfile.Duration `yaml:"depth_interval"`
}

// Redis is the Redis server redis targets deliver to.
type Redis struct {
	// URL is redis://[user:password@]host:port/db, rediss:// (TLS) or
	// unix:///path. It may hold a password, so it is a Secret; URLFile reads
	// it from a file instead. Empty: no redis targets are possible.
	URL     secret.Secret `yaml:"url"`
	URLFile string        `yaml:"url_file"`
	// PoolSize is the connection pool size (0: go-redis's default, 10 per CPU).
	PoolSize int `yaml:"pool_size"`
	// DialTimeout (default 2s), ReadTimeout and WriteTimeout (default 3s)
	// bound network operations, so a Redis that is down fails an attempt
	// quickly instead of holding a worker.
	DialTimeout  yamlfile.Duration `yaml:"dial_timeout"`
	ReadTimeout  yamlfile.Duration `yaml:"read_timeout"`
	WriteTimeout yamlfile.Duration `yaml:"write_timeout"`
	// DedupTTL is how long an item's dedup key is kept next to its stream,
	// so that a redelivered or replayed item is added once (default 7d).
	DedupTTL yamlfile.Duration `yaml:"dedup_ttl"`
}

// Webhook holds defaults for webhook targets.
type Webhook struct {
	// Timeout bounds one request of a webhook target that sets no timeout of
	// its own (default 10s).
	Timeout yamlfile.Duration `yaml:"timeout"`
	// AllowedHosts, when not empty, are the only hosts webhook targets in
	// the rules may send to: "hooks.slack.com", or "*.example.com" for
	// every subdomain. Whoever edits the rules can otherwise point a
	// team's webhook (and the messages) anywhere. Empty: any host.
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// Breaker configures the circuit breaker kept per team and target.
type Breaker struct {
	// Failures is how many failed attempts in a row open the breaker
	// (default 5). While open, items for the target are not tried but handed
	// back for a later retry, without waiting on the target.
	Failures int `yaml:"failures"`
	// Cooldown is how long the breaker stays open before one probe attempt
	// is let through (default 30s).
	Cooldown yamlfile.Duration `yaml:"cooldown"`
}

// ThreadStickiness configures the thread-to-team map.
type ThreadStickiness struct {
	// Enabled turns stickiness on (default true).
	Enabled *bool `yaml:"enabled"`
	// TTL is how long a thread stays with its team after its last item
	// (default 30d).
	TTL yamlfile.Duration `yaml:"ttl"`
	// Bucket is the JetStream key-value bucket holding the map (default
	// "switchboard_threads").
	Bucket string `yaml:"bucket"`
}

// On reports whether thread stickiness is enabled.
func (t ThreadStickiness) On() bool { return t.Enabled == nil || *t.Enabled }

// validate reports problems in the delivery section at p and fills in
// defaults.
func (c *Delivery) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {
	defDuration(&c.RetryMin, time.Second)
	defDuration(&c.RetryMax, 5*time.Minute)
	defDuration(&c.AttemptTimeout, 15*time.Second)
	defDuration(&c.DepthInterval, 30*time.Second)
	defDuration(&c.Webhook.Timeout, 10*time.Second)
	defDuration(&c.Breaker.Cooldown, 30*time.Second)
	defDuration(&c.ThreadStickiness.TTL, 30*24*time.Hour)
	defDuration(&c.Redis.DialTimeout, 2*time.Second)
	defDuration(&c.Redis.ReadTimeout, 3*time.Second)
	defDuration(&c.Redis.WriteTimeout, 3*time.Second)
	defDuration(&c.Redis.DedupTTL, 7*24*time.Hour)
	if c.MaxPending == 0 {
		c.MaxPending = 10000
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = 5
	}
	if c.ProgressBucket == "" {
		c.ProgressBucket = "switchboard_delivery"
	}
	if c.ThreadStickiness.Bucket == "" {
		c.ThreadStickiness.Bucket = "switchboard_threads"
	}

	for _, d := range []struct {
		key string
		v   yamlfile.Duration
	}{
		{"retry_min", c.RetryMin}, {"retry_max", c.RetryMax}, {"attempt_timeout", c.AttemptTimeout},
		{"depth_interval", c.DepthInterval},
	} {
		if d.v < 0 {
			report(p.Child(d.key), "%s cannot be negative", d.key)
		}
	}
	if c.RetryMin > 0 && c.RetryMax > 0 && c.RetryMax < c.RetryMin {
		report(p.Child("retry_max"), "retry_max (%s) cannot be less than retry_min (%s)", c.RetryMax, c.RetryMin)
	}
	if c.AttemptTimeout > yamlfile.Duration(5*time.Minute) {
		report(p.Child("attempt_timeout"), "attempt_timeout must be at most 5m")
	}
	if c.MaxPending < 1 || c.MaxPending > 1_000_000 {
		report(p.Child("max_pending"), "max_pending must be between 1 and 1000000")
	}
	if c.Breaker.Failures < 1 {
		report(p.Child("breaker").Child("failures"), "breaker failures must be at least 1")
	}
	if c.Breaker.Cooldown < 0 {
		report(p.Child("breaker").Child("cooldown"), "breaker cooldown cannot be negative")
	}
	if c.Webhook.Timeout < 0 || c.Webhook.Timeout > yamlfile.Duration(5*time.Minute) {
		report(p.Child("webhook").Child("timeout"), "webhook timeout must be between 1ms and 5m")
	}
	for i, h := range c.Webhook.AllowedHosts {
		if !validHostPattern(h) {
			report(p.Child("webhook").Child("allowed_hosts").Child(i), "allowed host %q: want a host name like hooks.slack.com or *.example.com, without scheme, port or path", h)
		}
	}
	if !validStreamName(c.ProgressBucket) {
		report(p.Child("progress_bucket"), "progress_bucket %q: use letters, digits, '-' or '_'", c.ProgressBucket)
	}
	ts := p.Child("thread_stickiness")
	if !validStreamName(c.ThreadStickiness.Bucket) {
		report(ts.Child("bucket"), "bucket %q: use letters, digits, '-' or '_'", c.ThreadStickiness.Bucket)
	}
	if c.ThreadStickiness.TTL > 0 && c.ThreadStickiness.TTL < yamlfile.Duration(time.Minute) {
		report(ts.Child("ttl"), "thread_stickiness ttl must be at least 1m")
	} else if c.ThreadStickiness.TTL < 0 {
		report(ts.Child("ttl"), "thread_stickiness ttl cannot be negative")
	}
	if c.ProgressBucket == c.ThreadStickiness.Bucket {
		report(p.Child("progress_bucket"), "progress_bucket and thread_stickiness bucket must differ")
	}
	c.Redis.validate(p.Child("redis"), report)
}

func (r *Redis) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {
	for _, d := range []struct {
		key string
		v   yamlfile.Duration
	}{
		{"dial_timeout", r.DialTimeout}, {"read_timeout", r.ReadTimeout}, {"write_timeout", r.WriteTimeout}, {"dedup_ttl", r.DedupTTL},
	} {
		if d.v < 0 {
			report(p.Child(d.key), "%s cannot be negative", d.key)
		}
	}
	if r.DedupTTL > 0 && r.DedupTTL < yamlfile.Duration(time.Hour) {
		report(p.Child("dedup_ttl"), "dedup_ttl must be at least 1h, longer than any retry of an item")
	}
	if r.PoolSize < 0 || r.PoolSize > 10000 {
		report(p.Child("pool_size"), "pool_size must be between 0 (the default) and 10000")
	}
	if r.URL != "" {
		if msg := checkRedisURL(r.URL.Reveal()); msg != "" {
			key := "url"
			if r.URLFile != "" {
				key = "url_file"
			}
			report(p.Child(key), "%s", msg)
		}
	}
}

// checkRedisURL explains what is wrong with a Redis URL, or returns "". It
// never repeats the URL, which may hold a password.
func checkRedisURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "redis url is not a valid URL (want redis://[user:password@]host:port/db, rediss://... or unix:///path)"
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return "redis url needs a host, like redis://127.0.0.1:6379/0"
		}
		if msg := checkURL(raw, u.Scheme); msg != "" {
			return "redis url: " + msg
		}
	case "unix":
		if u.Path == "" {
			return "unix redis url needs a socket path, like unix:///run/redis.sock"
		}
	default:
		return "redis url scheme must be redis, rediss or unix"
	}
	return ""
}

// validHostPattern reports whether h is a host name, an IP address or
// "*." followed by a host name.
func validHostPattern(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 || strings.ContainsAny(h, "*:/@ ?#") {
		return h != "" && net.ParseIP(h) != nil // an IPv6 address has colons
	}
	return true
}

func defDuration(d *yamlfile.Duration, def time.Duration) {
	if *d == 0 {
		*d = yamlfile.Duration(def)
	}
}
