package targets

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
)

// DefaultDedupTTL is how long a delivered key is remembered when the
// configuration sets nothing.
const DefaultDedupTTL = 7 * 24 * time.Hour

// RedisClient is what the Redis target needs from go-redis; *redis.Client
// and *redis.ClusterClient satisfy it.
type RedisClient interface {
	redis.Scripter
	XLen(ctx context.Context, stream string) *redis.IntCmd
}

// xaddOnce stores an item once: if the dedup key exists the stored entry id
// is returned, otherwise the item is XADDed and the key set with a TTL. The
// key is set after XADD so that a failing XADD leaves nothing behind; a Lua
// script runs atomically, so no other client sees the state in between, and
// its effects reach replicas and the AOF as one transaction.
//
// KEYS[1] dedup key, KEYS[2] stream; ARGV[1] TTL in ms, ARGV[2] MAXLEN
// (<= 0: no cap), ARGV[3...] field/value pairs. Returns {entry id, 1 if it
// was a duplicate else 0}.
var xaddOnce = redis.NewScript(`
local prev = redis.call('GET', KEYS[1])
if prev then
  return {prev, 1}
end
local id
if tonumber(ARGV[2]) > 0 then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
else
  id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
end
redis.call('SET', KEYS[1], id, 'PX', ARGV[1])
return {id, 0}
`)

// Redis delivers to one team's Redis Stream with XADD and an approximate
// MAXLEN. The dedup key "{<stream>}:dedup:<id>:<team>" and the XADD happen
// in one Lua script (EVALSHA), so a redelivered item is added once as long
// as its key lives (the dedup TTL). The hash tag keeps both keys in one
// cluster slot.
//
// Every entry has the fields id (envelope id), team, priority and data (the
// routed item as JSON).
type Redis struct {
	c      RedisClient
	stream string
	maxLen int64
	ttl    time.Duration
}

// NewRedis returns team's Redis target for spec: writing to spec.Stream
// (targetspec.DefaultRedisStream(team) when empty), capped at spec.MaxLen
// entries (0: no cap), remembering delivered keys for ttl (0:
// DefaultDedupTTL).
func NewRedis(c RedisClient, team string, spec targetspec.Spec, ttl time.Duration) (*Redis, error) {
	spec.Type = targetspec.Redis
	spec = spec.WithDefaults(team)
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if ttl <= 0 {
		ttl = DefaultDedupTTL
	}
	return &Redis{c: c, stream: spec.Stream, maxLen: spec.MaxLen, ttl: ttl}, nil
}

// Name is "redis:<stream>".
func (r *Redis) Name() string { return targetspec.Redis + ":" + r.stream }

// ID is "redis:<stream>".
func (r *Redis) ID() string { return r.Name() }

// Stream is the stream key written to.
func (r *Redis) Stream() string { return r.stream }

// DedupKey is the key remembering that item was added.
func (r *Redis) DedupKey(item *message.Routed) string {
	return "{" + r.stream + "}:dedup:" + Key(item)
}

// Deliver adds item to the stream unless its key was added before.
func (r *Redis) Deliver(ctx context.Context, item *message.Routed, data []byte) error {
	_, err := r.deliver(ctx, item, data)
	return err
}

// deliver is Deliver reporting whether the item was already there.
func (r *Redis) deliver(ctx context.Context, item *message.Routed, data []byte) (duplicate bool, err error) {
	res, err := xaddOnce.Run(ctx, r.c, []string{r.DedupKey(item), r.stream},
		r.ttl.Milliseconds(), r.maxLen,
		"id", item.ID, "team", item.Team, "priority", item.Priority, "data", data).Slice()
	if err != nil {
		err = fmt.Errorf("adding %s to redis stream %s: %w", item.ID, r.stream, err)
		if strings.Contains(err.Error(), "WRONGTYPE") {
			// The key holds something that is not a stream: no retry helps.
			return false, Permanent(err)
		}
		return false, err
	}
	if len(res) != 2 {
		return false, fmt.Errorf("adding %s to redis stream %s: unexpected script reply of %d values", item.ID, r.stream, len(res))
	}
	dup, _ := res[1].(int64)
	return dup == 1, nil
}

// Depth returns XLEN of the stream (entries kept, read or not; XPENDING
// tells what a consumer group has not acked).
func (r *Redis) Depth(ctx context.Context, _ string) (int64, error) {
	n, err := r.c.XLen(ctx, r.stream).Result()
	if err != nil {
		return 0, fmt.Errorf("XLEN %s: %w", r.stream, err)
	}
	return n, nil
}

// NewRedisClient builds the client redis targets share from the
// delivery.redis configuration; it does not connect yet. Errors never
// contain the URL or its password.
func NewRedisClient(c config.Redis) (*redis.Client, error) {
	o, err := RedisOptions(c.URL.Reveal())
	if err != nil {
		return nil, err
	}
	if c.PoolSize > 0 {
		o.PoolSize = c.PoolSize
	}
	if c.DialTimeout > 0 {
		o.DialTimeout = time.Duration(c.DialTimeout)
	}
	if c.ReadTimeout > 0 {
		o.ReadTimeout = time.Duration(c.ReadTimeout)
	}
	if c.WriteTimeout > 0 {
		o.WriteTimeout = time.Duration(c.WriteTimeout)
	}
	return redis.NewClient(o), nil
}

// RedisOptions parses a redis://, rediss:// or unix:// URL into client
// options with timeouts suited to delivery: a Redis that is down fails an
// attempt within the attempt's deadline rather than hanging on it. Errors
// never contain the URL (it may hold a password).
func RedisOptions(rawURL string) (*redis.Options, error) {
	if _, err := url.Parse(rawURL); err != nil {
		// net/url's errors quote the URL (escaped, so it cannot be cut out
		// reliably) or parts of it: say nothing of it.
		return nil, errors.New("parsing delivery.redis.url: not a valid URL (a password with special characters must be percent-encoded)")
	}
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing delivery.redis.url: %s", redactURL(err.Error(), rawURL))
	}
	o.DialTimeout = 2 * time.Second
	o.ReadTimeout = 3 * time.Second
	o.WriteTimeout = 3 * time.Second
	o.ContextTimeoutEnabled = true
	// One quick retry on a broken pooled connection; the router retries the
	// rest with backoff.
	o.MaxRetries = 1
	return o, nil
}

// redactURL removes rawURL, its user info and its password from msg.
func redactURL(msg, rawURL string) string {
	if rawURL == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, rawURL, "[redis url]")
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		msg = strings.ReplaceAll(msg, u.User.String(), "[redacted]")
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "[redacted]")
		}
	} else if i := strings.LastIndex(rawURL, "@"); i >= 0 {
		// Unparseable: drop everything between the scheme and the '@'.
		start := strings.Index(rawURL, "://")
		if start >= 0 && start+3 < i {
			msg = strings.ReplaceAll(msg, rawURL[start+3:i], "[redacted]")
		}
	}
	return msg
}

// RedisLogger sends go-redis's own log lines (connection pool trouble) to
// zap at warn level; install it with redis.SetLogger. go-redis logs
// addresses, never the URL or its password.
type RedisLogger struct {
	// L receives the lines.
	L *zap.Logger
}

// Printf logs one go-redis line.
func (l RedisLogger) Printf(_ context.Context, format string, v ...any) {
	l.L.Warn(fmt.Sprintf(format, v...))
}
