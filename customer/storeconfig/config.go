// Package storeconfig is the customer store's configuration: its fields,
// their keys in the configuration file, defaults and validation. It is kept
// apart from the store (package customer) so that the daemon's
// configuration can embed and validate it without importing the runtime.
package storeconfig

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Config configures the customer store. Zero values take the defaults
// documented on each field; Validate names every field it rejects. It is
// the customers section of the daemon's configuration file (config.Customers
// embeds it inline), so its yaml tags are the file's keys: durations are
// written like "365d" or "48h", sizes like "1GiB" or in plain bytes.
type Config struct {
	// Identity says what counts as an identity key (patterns, the
	// company's own identifiers).
	Identity identity.Config `yaml:",inline"`
	// Bucket is the JetStream key-value bucket of the store (default
	// "switchboard_customers"); recent items go to Bucket+"_items".
	Bucket string `yaml:"bucket"`
	// TTL is how long a customer, key or name entry is kept after it last
	// changed or was last seen in a message (default 365 days). Entries of
	// active customers are rewritten every TTL/4 so they do not expire.
	TTL yamlfile.Duration `yaml:"ttl"`
	// ProbableWindow is how close in time two messages with the same
	// display name on two channels must be for a probable link (default
	// 48h); it is measured in steps of a quarter of the window, so two
	// messages up to 1¼ windows apart can link.
	ProbableWindow yamlfile.Duration `yaml:"probable_window"`
	// MaxKeys caps a customer's keys (default 50). A link that would make a
	// customer bigger is refused and reported: a customer that large is
	// more likely several people glued together than one.
	MaxKeys int `yaml:"max_keys"`
	// MaxPeers is how many different person keys (channel ids, email
	// addresses, phone numbers) one key may be seen with before it counts
	// as shared — an office switchboard, a family address, a support
	// address quoted in text — and stops linking anything (default 8).
	MaxPeers int `yaml:"max_peers"`
	// MaxLinks caps the links kept per customer (default 4 × MaxKeys).
	MaxLinks int `yaml:"max_links"`
	// RecentItems is how many recent item ids are kept per key (default
	// 20, at most 64; -1 keeps none).
	RecentItems int `yaml:"recent_items"`
	// CacheEntries caps the in-memory cache of the bucket (default
	// 100000 entries; a customer takes about 2 + its number of keys).
	CacheEntries int `yaml:"cache_entries"`
	// MaxBytes bounds the bucket's size on disk (default 1 GiB). When it
	// is full, new customers are not stored (Observe returns an error and
	// routing goes on without customer context) until entries expire.
	MaxBytes yamlfile.ByteSize `yaml:"max_bytes"`
	// Replicas is the buckets' replica count (default 1). It is not a key
	// of the customers section: the daemon sets it from streams.replicas.
	Replicas int `yaml:"-"`
}

// Defaults.
const (
	DefaultBucket         = "switchboard_customers"
	DefaultTTL            = 365 * 24 * time.Hour
	DefaultProbableWindow = 48 * time.Hour
	DefaultMaxKeys        = 50
	DefaultMaxPeers       = 8
	DefaultRecentItems    = 20
	DefaultCacheEntries   = 100000
	DefaultMaxBytes       = 1 << 30
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Bucket = cmp.Or(c.Bucket, DefaultBucket)
	c.TTL = cmp.Or(c.TTL, yamlfile.Duration(DefaultTTL))
	c.ProbableWindow = cmp.Or(c.ProbableWindow, yamlfile.Duration(DefaultProbableWindow))
	c.MaxKeys = cmp.Or(c.MaxKeys, DefaultMaxKeys)
	c.MaxPeers = cmp.Or(c.MaxPeers, DefaultMaxPeers)
	c.MaxLinks = cmp.Or(c.MaxLinks, 4*c.MaxKeys)
	c.RecentItems = cmp.Or(c.RecentItems, DefaultRecentItems)
	c.CacheEntries = cmp.Or(c.CacheEntries, DefaultCacheEntries)
	c.MaxBytes = cmp.Or(c.MaxBytes, DefaultMaxBytes)
	c.Replicas = cmp.Or(c.Replicas, 1)
	return c
}

// Validate reports every problem in c, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if _, err := identity.New(c.Identity); err != nil {
		errs = append(errs, err)
	}
	d := c.WithDefaults()
	if !validBucket(d.Bucket) {
		errs = append(errs, fmt.Errorf("bucket: %q must be letters, digits, '-' or '_'", c.Bucket))
	}
	if c.TTL < 0 || d.TTL > 0 && d.TTL < yamlfile.Duration(time.Hour) {
		errs = append(errs, fmt.Errorf("ttl: %s must be at least 1h", c.TTL))
	}
	if c.ProbableWindow < 0 || d.ProbableWindow > 0 && d.ProbableWindow < yamlfile.Duration(time.Minute) {
		errs = append(errs, fmt.Errorf("probable_window: %s must be at least 1m", c.ProbableWindow))
	}
	if d.ProbableWindow > d.TTL {
		errs = append(errs, fmt.Errorf("probable_window: %s is longer than ttl %s", d.ProbableWindow, d.TTL))
	}
	if c.MaxKeys < 0 || c.MaxKeys == 1 {
		errs = append(errs, fmt.Errorf("max_keys: %d must be at least 2", c.MaxKeys))
	}
	if c.MaxPeers < 0 {
		errs = append(errs, fmt.Errorf("max_peers: %d must not be negative", c.MaxPeers))
	}
	if c.MaxLinks < 0 || c.MaxLinks > 0 && c.MaxLinks < d.MaxKeys {
		errs = append(errs, fmt.Errorf("max_links: %d must be at least max_keys (%d)", c.MaxLinks, d.MaxKeys))
	}
	if c.RecentItems < -1 || c.RecentItems > jetstream.KeyValueMaxHistory {
		errs = append(errs, fmt.Errorf("recent_items: %d must be -1 (none) to %d", c.RecentItems, jetstream.KeyValueMaxHistory))
	}
	if c.CacheEntries < 0 {
		errs = append(errs, fmt.Errorf("cache_entries: %d must not be negative", c.CacheEntries))
	}
	if c.MaxBytes < 0 || c.MaxBytes > 0 && c.MaxBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("max_bytes: %d must be at least 1 MiB", c.MaxBytes))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas: %d must be 1 to 5", c.Replicas))
	}
	return errors.Join(errs...)
}

func validBucket(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
