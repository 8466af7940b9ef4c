package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/internal/loopback"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// DefaultIntakeToken is the intake token the shipped config.yaml falls back
// to when SWITCHBOARD_INTAKE_TOKEN is not set: fine on a laptop, refused
// on any address other hosts can reach.
const DefaultIntakeToken = "change-me"

// MinIntakeToken is the shortest intake token accepted on an address other
// hosts can reach.
const MinIntakeToken = 16

// checkListen reports what is wrong with a host:port listen address, or "".
// An empty host means every interface; the port is a number from 0 (any
// free port) to 65535.
func checkListen(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q: want host:port, like 127.0.0.1:7480", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("%q: the port must be a number from 0 to 65535", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Sprintf("%q: want host:port, like 127.0.0.1:7480", addr)
	}
	return ""
}

// listenIsLoopback reports whether a host:port address is reachable only
// from this machine.
func listenIsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && loopback.Is(host)
}

// weakIntakeToken reports whether t is the shipped default or too short to
// withstand guessing.
func weakIntakeToken(t secret.Secret) bool {
	return t.Reveal() == DefaultIntakeToken || len(t.Reveal()) < MinIntakeToken
}

// validate checks the intake section against the listener it is served on.
func (in *Intake) validate(p yamlfile.Path, listen string, report func(yamlfile.Path, string, ...any)) {
	if !in.Enabled {
		return
	}
	if in.Token == "" && in.TokenFile == "" {
		report(p.Child("token"), "the intake needs a bearer token (token or token_file)")
	}
	if listen == "" {
		report(p.Child("enabled"), "the intake needs http.listen")
	}
	if in.MaxBodyBytes <= 0 {
		report(p.Child("max_body_bytes"), "max_body_bytes must be positive")
	}
	if in.MaxConcurrent < 0 {
		report(p.Child("max_concurrent"), "max_concurrent must be 0 (the default, %d) or more", DefaultIntakeMaxConcurrent)
	}
	if in.MaxConcurrent == 0 {
		in.MaxConcurrent = DefaultIntakeMaxConcurrent
	}
	// Messages never repeat the token.
	if in.Token != "" && listen != "" && weakIntakeToken(in.Token) && !listenIsLoopback(listen) {
		key := "token"
		if in.TokenFile != "" {
			key = "token_file"
		}
		report(p.Child(key), "the intake token is the shipped default or shorter than %d characters, and http.listen %s is reachable from other hosts: set a random one (openssl rand -hex 32) in SWITCHBOARD_INTAKE_TOKEN or token_file", MinIntakeToken, listen)
	}
}

// checkURL reports what is wrong with a URL that must have one of schemes
// and a host, or "". It never repeats the URL, which may hold a password.
func checkURL(raw string, schemes ...string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "not a URL"
	}
	ok := false
	for _, s := range schemes {
		ok = ok || strings.EqualFold(u.Scheme, s)
	}
	if !ok {
		list := strings.Join(schemes, ", ")
		if i := strings.LastIndex(list, ", "); i >= 0 {
			list = list[:i] + " or " + list[i+2:]
		}
		return "the scheme must be " + list
	}
	if u.Host == "" && !strings.EqualFold(u.Scheme, "unix") {
		return "the URL has no host"
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "the port must be a number from 1 to 65535"
		}
	}
	return ""
}

// remoteNeedsHTTPS reports what is wrong when an API base URL sends
// credentials to another host in clear text, or "".
func remoteNeedsHTTPS(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || loopback.Is(u.Hostname()) {
		return ""
	}
	return "a base_url on another host must be https: the access token travels with every request (plain http only to this machine, for a local proxy or a test)"
}

// Warnings returns what is allowed but worth a word, one line each,
// without repeating a secret: the daemon logs them at start and config
// check prints them.
func (c *Config) Warnings() []string {
	var w []string
	in := c.Connectors.Intake
	if in.Enabled && in.Token != "" && weakIntakeToken(in.Token) && listenIsLoopback(c.HTTP.Listen) {
		w = append(w, fmt.Sprintf("connectors.intake.token is the shipped default or shorter than %d characters: fine while http.listen is loopback, refused on any other address (openssl rand -hex 32)", MinIntakeToken))
	}
	return w
}

// validate checks the listener's timeouts.
func (h *HTTP) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {
	for _, t := range []struct {
		key string
		d   yamlfile.Duration
	}{{"read_timeout", h.ReadTimeout}, {"write_timeout", h.WriteTimeout}, {"idle_timeout", h.IdleTimeout}} {
		if t.d <= 0 {
			report(p.Child(t.key), "%s must be positive", t.key)
		}
	}
}
