package config

import (
	"slices"
	"testing"
	"time"
)

// customersBase is a valid file the customers tests add a customers section
// to: an external NATS cluster, so that streams.replicas may be above 1.
const customersBase = "nats:\n  url: nats://h1:4222\nstreams:\n  replicas: 3\n" + opsBase

// A full customers section decodes into the store's configuration, every
// key into its field, with durations in days and sizes with units; the
// replica count comes from streams.replicas.
func TestCustomersDecode(t *testing.T) {
	y := customersBase + `customers:
  enabled: false
  patterns:
    order: '\b11\d{5}\b'
  own_domains: [example.com]
  own_keys: ["phone:09 123 4567"]
  metadata_fields: [signature, phone]
  max_text_keys: 5
  bucket: custs
  ttl: 400d
  probable_window: 36h
  max_keys: 40
  max_peers: 6
  max_links: 120
  recent_items: -1
  cache_entries: 5000
  max_bytes: 2GiB
  cases:
    window: 3h
    ttl: 10d
    bucket: my_cases
`
	cfg, err := Parse("c.yaml", []byte(y), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Customers
	if c.On() {
		t.Error("enabled: false is on")
	}
	s := c.Store(cfg.Streams)
	id := s.Identity
	if len(id.Patterns) != 1 || id.Patterns["order"] != `\b11\d{5}\b` || !slices.Equal(id.OwnDomains, []string{"example.com"}) ||
		!slices.Equal(id.OwnKeys, []string{"phone:09 123 4567"}) || !slices.Equal(id.MetadataFields, []string{"signature", "phone"}) ||
		id.MaxTextKeys != 5 {
		t.Errorf("identity: %+v", id)
	}
	if s.Bucket != "custs" || time.Duration(s.TTL) != 400*24*time.Hour || time.Duration(s.ProbableWindow) != 36*time.Hour ||
		s.MaxKeys != 40 || s.MaxPeers != 6 || s.MaxLinks != 120 || s.RecentItems != -1 || s.CacheEntries != 5000 ||
		int64(s.MaxBytes) != 2<<30 || s.Replicas != 3 {
		t.Errorf("store: %+v", s)
	}
	if time.Duration(c.Cases.Window) != 3*time.Hour || time.Duration(c.Cases.TTL) != 10*24*time.Hour || c.Cases.Bucket != "my_cases" {
		t.Errorf("cases: %+v", c.Cases)
	}
}

// Without a customers section the store's configuration is all zero (its
// defaults are the store's, see storeconfig.WithDefaults) but for the
// replica count, and the model is on.
func TestCustomersDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(opsBase), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Customers
	if !c.On() {
		t.Error("the customer model is off by default")
	}
	s := c.Store(cfg.Streams)
	if s.Identity.Patterns != nil || s.Bucket != "" || s.TTL != 0 || s.ProbableWindow != 0 || s.MaxKeys != 0 || s.MaxBytes != 0 || s.Replicas != 1 {
		t.Errorf("store: %+v", s)
	}
	if time.Duration(c.Cases.Window) != 2*time.Hour || time.Duration(c.Cases.TTL) != 30*24*time.Hour || c.Cases.Bucket != "switchboard_cases" {
		t.Errorf("cases: %+v", c.Cases)
	}
}

// Plain numbers are bytes, and "0" is a duration: the zero values that
// take the defaults.
func TestCustomersPlainValues(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(opsBase+"customers:\n  max_bytes: 1048576\n  ttl: 0\n  probable_window: 90m\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Customers.Store(cfg.Streams)
	if int64(s.MaxBytes) != 1<<20 || s.TTL != 0 || time.Duration(s.ProbableWindow) != 90*time.Minute {
		t.Errorf("store: %+v", s)
	}
}

// A key the customers section does not have (replicas among them: it is
// streams.replicas) or a value its field cannot hold stops the decoding,
// reported where it is written.
func TestCustomersRefusedKeysAndValues(t *testing.T) {
	refused := map[string]string{
		"customers:\n  ttl: 2h\n  colour: red\n":    `c.yaml:3:3: unknown field "colour"`,
		"customers:\n  replicas: 3\n":               `c.yaml:2:3: unknown field "replicas"`,
		"customers:\n  ttl: forever\n":              `c.yaml:2:8: invalid duration "forever"`,
		"customers:\n  cases: {}\n  max_bytes: x\n": `c.yaml:3:14: invalid size "x"`,
		"customers:\n  max_keys: many\n":            "c.yaml:2:13: want a whole number here, not a string",
	}
	for y, want := range refused {
		_, err := Parse("c.yaml", []byte(y+opsBase), noEnv)
		wantError(t, err, want)
	}
}

// Every problem of the customers section's values is reported at its key,
// all of them at once; a problem with one element of a list (own_domains[1])
// at the section.
func TestCustomersProblemsHavePositions(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{{`customers:
  own_domains: [example.com, 'not a domain']
  own_keys: [nonsense]
  metadata_fields: [signature, '']
  patterns:
    order: '('
    Order: x
  max_text_keys: -1
  bucket: ${NOPE}
  ttl: 30m
  probable_window: 3h
  max_keys: 1
  max_peers: -1
  recent_items: 65
  cache_entries: -1
  max_bytes: 1KiB
  cases:
    window: 40d
    ttl: 1h
`, `c.yaml:2:3: "not a domain" is not a domain name
c.yaml:2:3: identity key "nonsense": want KIND:VALUE (fb, x, xh, email, phone, web or a pattern name)
c.yaml:2:3: empty field name
c.yaml:6:12: error parsing regexp: missing closing ): ` + "`(`" + `
c.yaml:7:12: a name is a lowercase letter followed by lowercase letters, digits, '-' or '_'
c.yaml:8:18: -1 must not be negative
c.yaml:9:11: environment variable NOPE is not set (write ${NOPE:-default} to give a default)
c.yaml:9:11: "${NOPE}" must be letters, digits, '-' or '_'
c.yaml:10:8: 30m0s must be at least 1h
c.yaml:11:20: 3h0m0s is longer than ttl 30m0s
c.yaml:12:13: 1 must be at least 2
c.yaml:13:14: -1 must not be negative
c.yaml:14:17: 65 must be -1 (none) to 64
c.yaml:15:18: -1 must not be negative
c.yaml:16:14: 1024 must be at least 1 MiB
c.yaml:18:13: window must be between 1m and 30d
c.yaml:19:10: ttl must be at least the window`}, {`customers:
  probable_window: 30s
  max_links: 10
`, `c.yaml:2:20: 30s must be at least 1m
c.yaml:3:14: 10 must be at least max_keys (50)`}} {
		_, err := Parse("c.yaml", []byte(tt.yaml+opsBase), noEnv)
		if err == nil || err.Error() != tt.want {
			t.Errorf("errors:\n%v\nwant:\n%s", err, tt.want)
		}
	}
}
