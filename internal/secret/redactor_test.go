package secret

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestRedactorScrubsEchoedForms(t *testing.T) {
	const pass = `pa"ss\word 100%`
	const token = "AAAA-bearer-token/with+chars"
	r := NewRedactor()
	r.Add(Secret(token), "", Secret("redis://default:r3dis-pw@127.0.0.1:6379/0"))
	r.AddBasicAuth("support@example.com", Secret(pass))
	js, _ := json.Marshal(pass)
	tests := []struct{ name, text, secret string }{
		{"as written", "refused " + token + " today", token},
		{"bearer header", "Authorization: Bearer " + token, token},
		{"imap quoted LOGIN", `T1 NO [AUTHENTICATIONFAILED] T1 LOGIN "support@example.com" "pa\"ss\\word 100%"`, pass},
		{"json string", `{"detail":` + string(js) + `}`, pass},
		{"url query", "https://h/x?password=" + url.QueryEscape(pass), pass},
		{"url path", "https://h/" + url.PathEscape(token), token},
		{"password of a url", "dial redis://default:r3dis-pw@host failed", "r3dis-pw"},
		{"basic auth", "Authorization: Basic " + b64("support@example.com:"+pass), b64("support@example.com:" + pass)},
		{"basic auth, url-encoded parts", "Basic " + b64(url.QueryEscape("support@example.com")+":"+url.QueryEscape(pass)), b64(url.QueryEscape("support@example.com") + ":" + url.QueryEscape(pass))},
		{"sasl plain", "AUTHENTICATE PLAIN " + b64("\x00support@example.com\x00"+pass), b64("\x00support@example.com\x00" + pass)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Scrub(tt.text)
			if strings.Contains(got, tt.secret) || !strings.Contains(got, Redacted) {
				t.Fatalf("Scrub(%q) = %q", tt.text, got)
			}
		})
	}
	if got := r.Scrub("nothing secret here"); got != "nothing secret here" {
		t.Errorf("Scrub changed a clean text: %q", got)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestRedactorLongestFirst(t *testing.T) {
	r := NewRedactor()
	r.Add("abc", "abcdef-long")
	if got := r.Scrub("x abcdef-long y abc z"); got != "x "+Redacted+" y "+Redacted+" z" {
		t.Fatalf("Scrub = %q", got)
	}
}

func TestRedactorError(t *testing.T) {
	r := NewRedactor()
	r.Add("hunter2")
	base := errors.New("login hunter2 refused")
	err := r.Error(fmt.Errorf("account a: %w", base))
	if strings.Contains(err.Error(), "hunter2") || !errors.Is(err, base) {
		t.Fatalf("Error = %q (is base: %v)", err, errors.Is(err, base))
	}
	if r.Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
	// A secret registered later is scrubbed from errors wrapped later.
	r.Add("later")
	if got := r.Error(errors.New("later")).Error(); got != Redacted {
		t.Fatalf("got %q", got)
	}
}

func TestNilRedactorScrubsNothing(t *testing.T) {
	var r *Redactor
	r.Add("x")
	r.AddBasicAuth("u", "p")
	if r.Scrub("x p") != "x p" || r.Error(errors.New("x")).Error() != "x" {
		t.Fatal("nil redactor changed the text")
	}
}

func TestRedactorConcurrent(t *testing.T) {
	r := NewRedactor()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				r.Add(Secret(fmt.Sprintf("secret-%d-%d", i, j)))
				_ = r.Scrub("secret-0-0 and secret-7-49")
			}
		})
	}
	wg.Wait()
	if got := r.Scrub("secret-0-0 and secret-7-49"); got != Redacted+" and "+Redacted {
		t.Fatalf("Scrub = %q", got)
	}
}
