package config

import (
	"errors"
	"strings"
	"time"

	"github.com/switchboard/switchboard/customer/storeconfig"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Customers configures the customer model: which identifiers link an
// author's messages across channels into one customer, and the cases that
// keep one customer's matter with one team (docs/customers.md). Every key
// is optional.
type Customers struct {
	// Enabled turns the customer model on (default true).
	Enabled *bool `yaml:"enabled"`
	// Config is the customer store's configuration, its keys written
	// directly in the section (patterns, own_domains, bucket, ttl, ...):
	// one spec, whose fields, defaults and validation are the store's. Its
	// replica count is not a key here: read it through Store, which sets
	// that from streams.replicas.
	storeconfig.Config `yaml:",inline"`
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

// Store returns the customer store's configuration, with the replica count
// of the configured streams.
func (c Customers) Store(streams Streams) storeconfig.Config {
	s := c.Config
	s.Replicas = streams.Replicas
	return s
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
