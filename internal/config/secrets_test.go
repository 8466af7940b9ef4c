package config

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/secret"
)

// Every Secret field of the configuration, wherever it is nested, is known
// to the redactor: a field added later cannot be forgotten.
func TestRegisterSecretsKnowsEverySecretField(t *testing.T) {
	cfg := Default()
	cfg.Connectors.Facebook.Pages = []FacebookPage{{ID: "1"}}
	cfg.Connectors.Email.Accounts = []EmailAccount{{Name: "support", Username: "support@example.com"}}
	cfg.NATS.URL = "nats://sb:nats-url-pw@h1:4222,nats://h2:4222"
	var all []string
	n := 0
	var set func(v reflect.Value)
	set = func(v reflect.Value) {
		switch {
		case v.Type() == secretType:
			n++
			s := fmt.Sprintf("secret-value-%02d", n)
			v.SetString(s)
			all = append(all, s)
		case v.Kind() == reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				set(v.Field(i))
			}
		case v.Kind() == reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				set(v.Index(i))
			}
		}
	}
	set(reflect.ValueOf(&cfg).Elem())
	if n < 10 {
		t.Fatalf("only %d secret fields found; the walk misses some", n)
	}
	red := secret.NewRedactor()
	cfg.RegisterSecrets(red)
	for _, s := range all {
		if got := red.Scrub("x " + s + " y"); strings.Contains(got, s) {
			t.Errorf("%s not registered: %q", s, got)
		}
	}
	pw := cfg.Connectors.Email.Accounts[0].Password.Reveal()
	plain := base64.StdEncoding.EncodeToString([]byte("\x00support@example.com\x00" + pw))
	for _, text := range []string{`LOGIN "support@example.com" "` + pw + `"`, "AUTHENTICATE PLAIN " + plain, "nats-url-pw"} {
		if got := red.Scrub(text); strings.Contains(got, pw) || strings.Contains(got, plain) || strings.Contains(got, "nats-url-pw") {
			t.Errorf("not scrubbed: %q", got)
		}
	}
	if got := red.Scrub("nats://h2:4222"); got != "nats://h2:4222" {
		t.Errorf("a URL without a password was scrubbed: %q", got)
	}
}
