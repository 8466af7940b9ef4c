package config

import (
	"errors"
	"strings"
	"time"

	"github.com/switchboard/switchboard/customer/storeconfig"
	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Customers configures the customer model: which identifiers link an
// author's messages across channels into one customer, and the cases that
// keep one customer's matter with one team (docs/customers.md). Every key
// is optional.
type Customers struct {
	// Enabled turns the customer model on (default true).
	Enabled *bool `yaml:"enabled"`
	// Patterns are named regular expressions for identifiers in text, such
	// as order numbers: {order: '\b11\d{5}\b'}.
	Patterns map[string]string `yaml:"patterns"`
	// OwnDomains are the company's own mail domains; OwnKeys its own
	// identifiers ("phone:09 123 4567"): never customer keys.
	OwnDomains []string `yaml:"own_domains"`
	OwnKeys    []string `yaml:"own_keys"`
	// MetadataFields are the envelope metadata fields searched like the
	// text (default: signature, phone, email, customer_number).
	MetadataFields []string `yaml:"metadata_fields"`
	// MaxTextKeys caps the identifiers one message's text may yield.
	MaxTextKeys int `yaml:"max_text_keys"`
	// Bucket, TTL, ProbableWindow, MaxKeys, MaxPeers, MaxLinks,
	// RecentItems, CacheEntries, MaxBytes: see docs/customers.md.
	Bucket         string            `yaml:"bucket"`
	TTL            yamlfile.Duration `yaml:"ttl"`
	ProbableWindow yamlfile.Duration `yaml:"probable_window"`
	MaxKeys        int               `yaml:"max_keys"`
	MaxPeers       int               `yaml:"max_peers"`
	MaxLinks       int               `yaml:"max_links"`
	RecentItems    int               `yaml:"recent_items"`
	CacheEntries   int               `yaml:"cache_entries"`
	MaxBytes       yamlfile.ByteSize `yaml:"max_bytes"`
	// Cases configures customers' cases.
	Cases Cases `yaml:"cases"`
}

// Cases configures customers' cases.
type Cases struct {
	// Window is how long a case stays open after its latest item (default
	// 2h): a new item from the customer within it joins the case.
	Window yamlfile.Duration `yaml:"window"`
	// TTL is how long a customer's cases are kept after their last change,
	// for traces and ops (default 30d).
	TTL yamlfile.Duration `yaml:"ttl"`
	// Bucket is the cases' KV bucket (default switchboard_cases).
	Bucket string `yaml:"bucket"`
}

// On reports whether the customer model is on (the default).
func (c Customers) On() bool { return c.Enabled == nil || *c.Enabled }

// Store returns the customer store's configuration; streams are the
// configured streams (for the replica count).
func (c Customers) Store(streams Streams) storeconfig.Config {
	return storeconfig.Config{
		Identity: identity.Config{Patterns: c.Patterns, OwnDomains: c.OwnDomains, OwnKeys: c.OwnKeys,
			MetadataFields: c.MetadataFields, MaxTextKeys: c.MaxTextKeys},
		Bucket: c.Bucket, TTL: c.TTL, ProbableWindow: c.ProbableWindow,
		MaxKeys: c.MaxKeys, MaxPeers: c.MaxPeers, MaxLinks: c.MaxLinks, RecentItems: c.RecentItems,
		CacheEntries: c.CacheEntries, MaxBytes: c.MaxBytes, Replicas: streams.Replicas,
	}
}

func (c *Customers) applyDefaults() {
	if c.Cases.Window == 0 {
		c.Cases.Window = yamlfile.Duration(2 * time.Hour)
	}
	if c.Cases.TTL == 0 {
		c.Cases.TTL = days(30)
	}
	if c.Cases.Bucket == "" {
		c.Cases.Bucket = "switchboard_cases"
	}
}

// validate reports the customer store's problems at their keys.
func (c *Customers) validate(p yamlfile.Path, streams Streams, report func(yamlfile.Path, string, ...any)) {
	c.applyDefaults()
	if err := c.Store(streams).Validate(); err != nil {
		for _, e := range unjoin(err) {
			field, msg, ok := strings.Cut(e.Error(), ": ")
			if !ok {
				report(p, "%s", e.Error())
				continue
			}
			q := p
			for _, part := range strings.Split(field, ".") {
				q = q.Child(part)
			}
			report(q, "%s", msg)
		}
	}
	if c.Cases.Window < yamlfile.Duration(time.Minute) || c.Cases.Window > days(30) {
		report(p.Child("cases").Child("window"), "window must be between 1m and 30d")
	}
	if c.Cases.TTL < c.Cases.Window {
		report(p.Child("cases").Child("ttl"), "ttl must be at least the window")
	}
}

// unjoin flattens errors.Join's tree into its leaves.
func unjoin(err error) []error {
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}
