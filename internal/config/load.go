package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Load reads, decodes, expands and validates the configuration file at path.
// Every problem is reported as FILE:LINE:COL: message (a yamlfile.List).
// Relative paths inside the file are resolved against the file's directory.
func Load(path string) (*Config, error) {
	data, err := yamlfile.ReadFile(path, fileLimits().MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// fileLimits bound the configuration file before it is parsed (see
// yamlfile.Prescan and docs/config.md).
func fileLimits() yamlfile.Limits {
	lim := yamlfile.DefaultLimits()
	lim.AliasHelp = "write the value out in full where it is needed"
	return lim
}

// Parse is Load on bytes already read; lookupEnv resolves ${VAR} references.
func Parse(path string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	cfg := Default()
	doc, err := yamlfile.DecodeLimited(path, data, &cfg, fileLimits())
	if err != nil {
		return nil, err
	}
	errs := yamlfile.NewCollector(doc)
	report := errs.Addf
	expandEnv(reflect.ValueOf(&cfg).Elem(), nil, lookupEnv, report)
	base := filepath.Dir(path)
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	resolveFiles(reflect.ValueOf(&cfg).Elem(), nil, base, report)
	cfg.validate(report)
	if err := errs.List().Err(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// expandEnv replaces ${VAR} and ${VAR:-default} in every string value.
func expandEnv(v reflect.Value, p yamlfile.Path, lookup func(string) (string, bool), report func(yamlfile.Path, string, ...any)) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			expandEnv(v.Field(i), fieldPath(p, t.Field(i)), lookup, report)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			expandEnv(v.Index(i), p.Child(i), lookup, report)
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			for _, k := range v.MapKeys() {
				e := reflect.New(v.Type().Elem()).Elem()
				e.Set(v.MapIndex(k))
				expandEnv(e, p.Child(k.Interface()), lookup, report)
				v.SetMapIndex(k, e)
			}
			return
		}
		for _, k := range v.MapKeys() {
			s, err := secret.ExpandEnv(v.MapIndex(k).String(), lookup)
			if err != nil {
				report(p.Child(k.Interface()), "%v", err)
				continue
			}
			v.SetMapIndex(k, reflect.ValueOf(s).Convert(v.Type().Elem()))
		}
	case reflect.String:
		s, err := secret.ExpandEnv(v.String(), lookup)
		if err != nil {
			report(p, "%v", err)
			return
		}
		v.SetString(s)
	}
}

var secretType = reflect.TypeOf(secret.Secret(""))

// resolveFiles makes every *_file path absolute against base, and fills each
// Secret field X from its sibling X_file when that is set.
func resolveFiles(v reflect.Value, p yamlfile.Path, base string, report func(yamlfile.Path, string, ...any)) {
	switch v.Kind() {
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			resolveFiles(v.Index(i), p.Child(i), base, report)
		}
		return
	case reflect.Struct:
	default:
		return
	}
	t := v.Type()
	byKey := map[string]reflect.Value{}
	for i := 0; i < t.NumField(); i++ {
		f := v.Field(i)
		if inline(t.Field(i)) {
			// Its keys are written at p; a secret and its X_file
			// sibling are both in it or both outside it.
			resolveFiles(f, p, base, report)
			continue
		}
		key := yamlKey(t.Field(i))
		byKey[key] = f
		if f.Kind() == reflect.String && (strings.HasSuffix(key, "_file") || strings.HasSuffix(key, "_dir") || key == "data_dir") && f.String() != "" {
			f.SetString(absPath(base, f.String()))
		}
		resolveFiles(f, p.Child(key), base, report)
	}
	for key, f := range byKey {
		if f.Type() != secretType {
			continue
		}
		file, ok := byKey[key+"_file"]
		if !ok {
			continue
		}
		s, err := secret.Resolve(key, secret.Secret(f.String()), file.String())
		var se *secret.SourceError
		if errors.As(err, &se) {
			report(p.Child(se.Field), "%v", se.Err)
			continue
		}
		f.SetString(s.Reveal())
	}
}

func absPath(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// yamlKey is the key f is written under in the file.
func yamlKey(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// inline reports whether f's keys are written in its parent's mapping
// (`yaml:",inline"`), as the customer store's are in customers.
func inline(f reflect.StructField) bool {
	_, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return slices.Contains(strings.Split(opts, ","), "inline")
}

// fieldPath is the path of f's value in the struct at p: p itself when f
// is inline.
func fieldPath(p yamlfile.Path, f reflect.StructField) yamlfile.Path {
	if inline(f) {
		return p
	}
	return p.Child(yamlKey(f))
}

// validate checks values that decode fine but make no sense.
func (c *Config) validate(report func(yamlfile.Path, string, ...any)) {
	if c.DataDir == "" && c.NATS.URL == "" && c.NATS.Embedded.StoreDir == "" {
		report(yamlfile.Path{"data_dir"}, "data_dir is required for the embedded NATS server")
	}
	switch c.Log.Format {
	case LogFormatAuto, LogFormatJSON, LogFormatConsole:
	default:
		report(yamlfile.Path{"log", "format"}, "log format %q: use auto, json or console", c.Log.Format)
	}
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(c.Log.Level)); err != nil {
		report(yamlfile.Path{"log", "level"}, "log level %q: use debug, info, warn or error", c.Log.Level)
	}
	if c.HTTP.Listen != "" {
		if msg := checkListen(c.HTTP.Listen); msg != "" {
			report(yamlfile.Path{"http", "listen"}, "http listen %s", msg)
		}
	}
	c.HTTP.validate(yamlfile.Path{"http"}, report)
	c.Customers.validate(yamlfile.Path{"customers"}, c.Streams, report)
	if c.NATS.URL == "" {
		c.validateEmbedded(report)
		if c.Streams.Replicas > 1 {
			report(yamlfile.Path{"streams", "replicas"}, "replicas %d needs an external NATS cluster (set nats.url)", c.Streams.Replicas)
		}
	} else {
		for _, u := range strings.Split(c.NATS.URL, ",") {
			if msg := checkURL(strings.TrimSpace(u), "nats", "tls", "ws", "wss"); msg != "" {
				report(yamlfile.Path{"nats", "url"}, "nats url: %s (want nats://host:4222, comma-separated for a cluster)", msg)
				break
			}
		}
		n := 0
		for _, set := range []bool{c.NATS.CredsFile != "", c.NATS.NKeyFile != "", c.NATS.Token != "", c.NATS.User != ""} {
			if set {
				n++
			}
		}
		if n > 1 {
			report(yamlfile.Path{"nats"}, "choose one NATS authentication: creds_file, nkey_file, token or user/password")
		}
		if (c.NATS.TLS.CertFile == "") != (c.NATS.TLS.KeyFile == "") {
			report(yamlfile.Path{"nats", "tls"}, "tls cert_file and key_file go together")
		}
	}
	if !message.ValidToken(c.Streams.Prefix) {
		report(yamlfile.Path{"streams", "subject_prefix"}, "subject_prefix %q: use lowercase letters, digits, '-' or '_'", c.Streams.Prefix)
	}
	if c.Streams.Replicas < 1 || c.Streams.Replicas > 5 {
		report(yamlfile.Path{"streams", "replicas"}, "replicas must be between 1 and 5")
	}
	for _, s := range []struct {
		key string
		st  Stream
	}{{"ingest", c.Streams.Ingest}, {"team", c.Streams.Team}, {"dead", c.Streams.Dead}} {
		p := yamlfile.Path{"streams", s.key}
		if !validStreamName(s.st.Name) {
			report(p.Child("name"), "stream name %q: use letters, digits, '-' or '_'", s.st.Name)
		}
		if s.st.MaxAge < 0 {
			report(p.Child("max_age"), "max_age cannot be negative")
		}
		if s.st.DuplicateWindow <= 0 {
			report(p.Child("duplicate_window"), "duplicate_window must be positive")
		}
		if s.st.MaxAge > 0 && s.st.DuplicateWindow > s.st.MaxAge {
			report(p.Child("duplicate_window"), "duplicate_window (%s) cannot exceed max_age (%s)", s.st.DuplicateWindow, s.st.MaxAge)
		}
	}
	if c.Streams.Ingest.DuplicateWindow < days(1) {
		report(yamlfile.Path{"streams", "ingest", "duplicate_window"}, "ingest duplicate_window must be at least 24h, so a re-polled item is never stored twice")
	}
	if !validStreamName(c.Streams.KVBucket) {
		report(yamlfile.Path{"streams", "kv_bucket"}, "kv_bucket %q: use letters, digits, '-' or '_'", c.Streams.KVBucket)
	}
	if c.Router.RulesFile == "" {
		report(yamlfile.Path{"router", "rules_file"}, "rules_file is required")
	}
	if !validStreamName(c.Router.Consumer) {
		report(yamlfile.Path{"router", "consumer"}, "consumer %q: use letters, digits, '-' or '_'", c.Router.Consumer)
	}
	if c.Router.AckWait <= 0 {
		report(yamlfile.Path{"router", "ack_wait"}, "ack_wait must be positive")
	}
	if c.Router.MaxDeliver < 1 {
		report(yamlfile.Path{"router", "max_deliver"}, "max_deliver must be at least 1")
	}
	if c.Router.Workers < 1 || c.Router.Workers > 1024 {
		report(yamlfile.Path{"router", "workers"}, "workers must be between 1 and 1024")
	}
	if c.Supervisor.BackoffMin <= 0 || c.Supervisor.BackoffMax < c.Supervisor.BackoffMin {
		report(yamlfile.Path{"supervisor"}, "need 0 < backoff_min <= backoff_max")
	}
	if c.ShutdownTimeout <= 0 {
		report(yamlfile.Path{"shutdown_timeout"}, "shutdown_timeout must be positive")
	}
	c.Delivery.validate(yamlfile.Path{"delivery"}, report)
	c.HTTP.Ops.validate(yamlfile.Path{"http", "ops"}, c.Connectors.Intake.Token, report)
	if c.HTTP.ExternalURL != "" {
		u, err := url.Parse(c.HTTP.ExternalURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
			report(yamlfile.Path{"http", "external_url"}, "external_url %q: want an http(s) URL like https://switchboard.example.com without credentials or query", c.HTTP.ExternalURL)
		}
		c.HTTP.ExternalURL = strings.TrimSuffix(c.HTTP.ExternalURL, "/")
	}
	c.Responses.validate(yamlfile.Path{"responses"}, []string{
		c.Streams.Ingest.Name, c.Streams.Team.Name, c.Streams.Dead.Name, c.Streams.KVBucket,
		c.Delivery.ProgressBucket, c.Delivery.ThreadStickiness.Bucket,
	}, report)
	c.Connectors.Facebook.validate(yamlfile.Path{"connectors", "facebook"}, report)
	c.Connectors.X.validate(yamlfile.Path{"connectors", "x"}, report)
	c.Connectors.Email.validate(yamlfile.Path{"connectors", "email"}, report)
	c.Connectors.Intake.validate(yamlfile.Path{"connectors", "intake"}, c.HTTP.Listen, report)
}

func validStreamName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
