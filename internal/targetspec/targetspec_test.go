package targetspec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		spec  Spec
		field string // "" when valid
		want  string
	}{
		{"nats", Spec{Type: NATS}, "", ""},
		{"redis", Spec{Type: Redis, Stream: "q", MaxLen: 10}, "", ""},
		{"redis default stream", Spec{Type: Redis}, "", ""},
		{"webhook https", Spec{Type: Webhook, URL: "https://hooks.example.com/x", Format: FormatSlack, Timeout: time.Second}, "", ""},
		{"webhook http localhost", Spec{Type: Webhook, URL: "http://localhost:8080/x"}, "", ""},
		// The rules once accepted LOCALHOST that the router then refused.
		{"webhook http LOCALHOST", Spec{Type: Webhook, URL: "http://LOCALHOST:8080/x"}, "", ""},
		{"webhook http ::1", Spec{Type: Webhook, URL: "http://[::1]:9/x"}, "", ""},
		{"no type", Spec{}, "type", "needs a type"},
		{"unknown type", Spec{Type: "carrier-pigeon"}, "type", `"carrier-pigeon"`},
		{"negative maxlen", Spec{Type: Redis, MaxLen: -1}, "maxlen", "maxlen"},
		{"hash tag in stream", Spec{Type: Redis, Stream: "a{b}"}, "stream", "hash tag"},
		{"stream on nats", Spec{Type: NATS, Stream: "q"}, "stream", "redis targets only"},
		{"url on redis", Spec{Type: Redis, URL: "https://h/sekret"}, "url", "webhook targets only"},
		{"secret on nats", Spec{Type: NATS, Secret: "sekret"}, "secret", "webhook targets only"},
		{"webhook without url", Spec{Type: Webhook}, "url", "needs a url"},
		{"relative url", Spec{Type: Webhook, URL: "/hooks/sekret"}, "url", "absolute http(s) URL"},
		{"ftp", Spec{Type: Webhook, URL: "ftp://127.0.0.1/sekret"}, "url", "absolute http(s) URL"},
		{"plain http remote", Spec{Type: Webhook, URL: "http://hooks.example.com/x?token=sekret"}, "url", "use https"},
		{"timeout too long", Spec{Type: Webhook, URL: "https://h/x", Timeout: time.Hour}, "timeout", "between"},
		{"negative timeout", Spec{Type: Webhook, URL: "https://h/x", Timeout: -1}, "timeout", "between"},
		{"bad format", Spec{Type: Webhook, URL: "https://h/sekret", Format: "xml"}, "format", `format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Msg, tt.want) {
				t.Fatalf("Validate = %v (%+v), want field %s with %q", err, fe, tt.field, tt.want)
			}
			if strings.Contains(err.Error(), "sekret") {
				t.Fatalf("error repeats the URL or secret: %v", err)
			}
		})
	}
}

func TestWithDefaultsAndString(t *testing.T) {
	r := Spec{Type: Redis}.WithDefaults("billing")
	if r.Stream != "switchboard:team:billing" || r.String() != "redis stream switchboard:team:billing" {
		t.Errorf("redis defaults %+v %q", r, r)
	}
	w := Spec{Type: Webhook, URL: "https://hooks.slack.com/services/T1/B1/sekret"}.WithDefaults("billing")
	if w.Format != FormatJSON || w.Timeout != 0 {
		t.Errorf("webhook defaults %+v (the timeout stays the delivery default)", w)
	}
	if s := w.String(); s != "webhook https://hooks.slack.com (json)" {
		t.Errorf("String = %q", s)
	}
	if n := (Spec{Type: NATS}).WithDefaults("billing"); n != (Spec{Type: NATS}) || n.String() != "nats" {
		t.Errorf("nats %+v", n)
	}
}
