package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Load reads, decodes, expands and validates the configuration file at path.
// Every problem is reported as FILE:LINE:COL: message (a yamlfile.List).
// Relative paths inside the file are resolved against the file's directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse is Load on bytes already read; lookupEnv resolves ${VAR} references.
func Parse(path string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	cfg := Default()
	doc, err := yamlfile.Decode(path, data, &cfg)
	if err != nil {
		return nil, err
	}
	var errs yamlfile.List
	report := func(p yamlfile.Path, format string, args ...any) {
		errs = append(errs, doc.Errorf(p, format, args...))
	}
	expandEnv(reflect.ValueOf(&cfg).Elem(), nil, lookupEnv, report)
	base := filepath.Dir(path)
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	resolveFiles(reflect.ValueOf(&cfg).Elem(), nil, base, report)
	cfg.validate(report)
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Col < errs[j].Col
	})
	if err := errs.Err(); err != nil {
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
			expandEnv(v.Field(i), p.Child(yamlKey(t.Field(i))), lookup, report)
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
			s, err := ExpandEnv(v.MapIndex(k).String(), lookup)
			if err != nil {
				report(p.Child(k.Interface()), "%v", err)
				continue
			}
			v.SetMapIndex(k, reflect.ValueOf(s).Convert(v.Type().Elem()))
		}
	case reflect.String:
		s, err := ExpandEnv(v.String(), lookup)
		if err != nil {
			report(p, "%v", err)
			return
		}
		v.SetString(s)
	}
}

// ExpandEnv expands ${VAR} and ${VAR:-default} in s. A referenced variable
// that is unset and has no default is an error; "$$" is a literal "$".
func ExpandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if i+1 >= len(s) || s[i+1] != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s)
		}
		ref := s[i+2 : i+end]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment variable name %q", name)
		}
		val, ok := lookup(name)
		switch {
		case ok && val != "":
			b.WriteString(val)
		case hasDef:
			b.WriteString(def)
		case ok:
			// set but empty, no default: empty
		default:
			return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
		}
		i += end
	}
	return b.String(), nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

var secretType = reflect.TypeOf(Secret(""))

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
		key := yamlKey(t.Field(i))
		f := v.Field(i)
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
		if !ok || file.String() == "" {
			continue
		}
		if f.String() != "" {
			report(p.Child(key), "set %s or %s_file, not both", key, key)
			continue
		}
		data, err := os.ReadFile(file.String())
		if err != nil {
			// The path is not secret; the content is never shown.
			report(p.Child(key+"_file"), "reading %s_file: %v", key, err)
			continue
		}
		f.SetString(strings.TrimSpace(string(data)))
	}
}

func absPath(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

func yamlKey(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// validate checks values that decode fine but make no sense.
func (c *Config) validate(report func(yamlfile.Path, string, ...any)) {
	if c.DataDir == "" && c.NATS.URL == "" && c.NATS.Embedded.StoreDir == "" {
		report(yamlfile.Path{"data_dir"}, "data_dir is required for the embedded NATS server")
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		report(yamlfile.Path{"log", "format"}, "log format %q: use json or console", c.Log.Format)
	}
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(c.Log.Level)); err != nil {
		report(yamlfile.Path{"log", "level"}, "log level %q: use debug, info, warn or error", c.Log.Level)
	}
	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			report(yamlfile.Path{"http", "listen"}, "http listen %q: want host:port", c.HTTP.Listen)
		}
	}
	if c.NATS.URL == "" {
		if _, _, err := net.SplitHostPort(c.NATS.Embedded.Listen); err != nil {
			report(yamlfile.Path{"nats", "embedded", "listen"}, "embedded listen %q: want host:port", c.NATS.Embedded.Listen)
		}
		if c.Streams.Replicas > 1 {
			report(yamlfile.Path{"streams", "replicas"}, "replicas %d needs an external NATS cluster (set nats.url)", c.Streams.Replicas)
		}
	} else {
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
	in := c.Connectors.Intake
	if in.Enabled {
		p := yamlfile.Path{"connectors", "intake"}
		if in.Token == "" && in.TokenFile == "" {
			report(p.Child("token"), "the intake needs a bearer token (token or token_file)")
		}
		if c.HTTP.Listen == "" {
			report(p.Child("enabled"), "the intake needs http.listen")
		}
		if in.MaxBodyBytes <= 0 {
			report(p.Child("max_body_bytes"), "max_body_bytes must be positive")
		}
	}
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
