package config

import (
	"time"

	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Ops roles (http.ops.tokens[].role).
const (
	// OpsRoleAdmin may see everything and act: replay dead letters, reroute.
	OpsRoleAdmin = "admin"
	// OpsRoleReadOnly may see everything and act on nothing.
	OpsRoleReadOnly = "read-only"
)

// Ops configures who may use the ops console (/ui/) and the /v1 read
// endpoints (http.ops). See docs/console.md.
type Ops struct {
	// Tokens are the ops tokens, each with a name and a role. Empty: the
	// daemon generates one admin token into <data_dir>/ops-token at its
	// first start and uses that.
	Tokens []OpsToken `yaml:"tokens"`
	// SessionTTL is how long a console login lasts (default 12h, between
	// 5m and 30d).
	SessionTTL yamlfile.Duration `yaml:"session_ttl"`
}

// OpsToken is one ops token.
type OpsToken struct {
	// Name says whose token it is; the console shows it and the decision
	// history records it for actions ("replayed by alice").
	Name string `yaml:"name"`
	// Role is OpsRoleAdmin or OpsRoleReadOnly (default read-only).
	Role string `yaml:"role"`
	// Token is the secret itself, at least 16 characters; TokenFile reads
	// it from a file instead.
	Token     secret.Secret `yaml:"token"`
	TokenFile string        `yaml:"token_file"`
}

// minOpsToken is the shortest ops token accepted: anything shorter could
// be guessed.
const minOpsToken = 16

func (o *Ops) applyDefaults() {
	for i := range o.Tokens {
		if o.Tokens[i].Role == "" {
			o.Tokens[i].Role = OpsRoleReadOnly
		}
	}
}

// validate checks the ops section; intake is the intake token, which an
// ops token must not repeat.
func (o *Ops) validate(p yamlfile.Path, intake secret.Secret, report func(yamlfile.Path, string, ...any)) {
	o.applyDefaults()
	if o.SessionTTL < yamlfile.Duration(5*time.Minute) || o.SessionTTL > days(30) {
		report(p.Child("session_ttl"), "session_ttl must be between 5m and 30d")
	}
	names := map[string]bool{}
	values := map[secret.Secret]bool{}
	for i, t := range o.Tokens {
		tp := p.Child("tokens").Child(i)
		switch {
		case t.Name == "":
			report(tp.Child("name"), "an ops token needs a name (who holds it)")
		case !validOpsName(t.Name):
			report(tp.Child("name"), "ops token name %q: use letters, digits, '.', '@', '-' or '_' (at most 64)", t.Name)
		case names[t.Name]:
			report(tp.Child("name"), "ops token name %q is used twice", t.Name)
		}
		names[t.Name] = true
		if t.Role != OpsRoleAdmin && t.Role != OpsRoleReadOnly {
			report(tp.Child("role"), "ops token role %q: use admin or read-only", t.Role)
		}
		// Messages never repeat a token's value.
		switch {
		case t.Token == "":
			report(tp.Child("token"), "ops token %s is empty (set token: ${ENV_VAR} or token_file)", t.Name)
		case len(t.Token) < minOpsToken:
			report(tp.Child("token"), "ops token %s is shorter than %d characters; generate one with: openssl rand -hex 32", t.Name, minOpsToken)
		case values[t.Token]:
			report(tp.Child("token"), "ops token %s repeats another ops token; give every holder their own", t.Name)
		case t.Token == intake:
			report(tp.Child("token"), "ops token %s is the intake token; the two must differ", t.Name)
		}
		values[t.Token] = true
	}
}

func validOpsName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '@' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
