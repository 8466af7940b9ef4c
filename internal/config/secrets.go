package config

import (
	"net/url"
	"reflect"
	"strings"

	"github.com/switchboard/switchboard/internal/secret"
)

// RegisterSecrets tells r every secret of c, so that r can scrub them from
// whatever the daemon logs or shows: each Secret field, wherever it is;
// the user and password that travel together (an IMAP login, X's OAuth
// client, a NATS user), in the encodings they travel in; and a password in
// nats.url.
func (c *Config) RegisterSecrets(r *secret.Redactor) {
	eachSecret(reflect.ValueOf(c).Elem(), func(s secret.Secret) { r.Add(s) })
	for _, a := range c.Connectors.Email.Accounts {
		r.AddBasicAuth(a.Username, a.Password)
	}
	r.AddBasicAuth(c.Connectors.X.DMs.ClientID, c.Connectors.X.DMs.ClientSecret)
	r.AddBasicAuth(c.NATS.User, c.NATS.Password)
	for _, raw := range strings.Split(c.NATS.URL, ",") {
		if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				r.Add(secret.Secret(p))
			}
		}
	}
}

// eachSecret calls f with every Secret in v, in structs, slices and maps.
func eachSecret(v reflect.Value, f func(secret.Secret)) {
	if v.Type() == secretType {
		f(secret.Secret(v.String()))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			eachSecret(v.Field(i), f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			eachSecret(v.Index(i), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			eachSecret(v.MapIndex(k), f)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			eachSecret(v.Elem(), f)
		}
	}
}
