package x

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPercentEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcXYZ019-._~", "abcXYZ019-._~"}, // unreserved: as is
		{"Hello Ladies + Gentlemen, a signed OAuth request!", "Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21"},
		{"=%3D", "%3D%253D"},
		{"c@", "c%40"},
		{"*'()/", "%2A%27%28%29%2F"},
		{"ä☃", "%C3%A4%E2%98%83"}, // UTF-8 bytes, upper-case hex
		{"", ""},
	}
	for _, tt := range tests {
		if got := percentEncode(tt.in); got != tt.want {
			t.Errorf("percentEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestBaseURI uses the examples of RFC 5849 section 3.4.1.2.
func TestBaseURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"},
		{"https://www.example.net:8080/?q=1", "https://www.example.net:8080/"},
		{"https://api.x.com/2/dm_events?max_results=5", "https://api.x.com/2/dm_events"},
		{"https://api.x.com:443", "https://api.x.com/"},
		{"http://[::1]:8080/2/x", "http://[::1]:8080/2/x"},
		{"http://[::1]/2/x", "http://[::1]/2/x"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := baseURI(u); got != tt.want {
			t.Errorf("baseURI(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSignatureBaseRFC5849 is the example of RFC 5849 section 3.4.1.1: query
// parameters (one encoded twice, one empty, one repeated in the body) and a
// form body ("+" is a space) are collected, encoded, sorted and joined; the
// realm and oauth_signature are left out.
func TestSignatureBaseRFC5849(t *testing.T) {
	params, err := requestParams("b5=%3D%253D&a3=a&c%40=&a2=r%20b", []byte("c2&a3=2+q"))
	if err != nil {
		t.Fatal(err)
	}
	params = append(params,
		param{"oauth_consumer_key", "9djdj82h48djs9d2"},
		param{"oauth_token", "kkk9d7dh3k39sjv7"},
		param{"oauth_signature_method", "HMAC-SHA1"},
		param{"oauth_timestamp", "137131201"},
		param{"oauth_nonce", "7d8f3e4a"})
	u, _ := url.Parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b")
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q" +
		"%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_" +
		"key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m" +
		"ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk" +
		"9d7dh3k39sjv7"
	if got := signatureBase("POST", baseURI(u), params); got != want {
		t.Fatalf("signature base\n got %s\nwant %s", got, want)
	}
}

// TestHMACSHA1RFC5849 is the signed request of RFC 5849 section 1.2 (which
// sends no oauth_version).
func TestHMACSHA1RFC5849(t *testing.T) {
	params := []param{{"file", "vacation.jpg"}, {"size", "original"},
		{"oauth_consumer_key", "dpf43f3p2l4k3l03"}, {"oauth_token", "nnch734d00sl2jdk"}, {"oauth_signature_method", "HMAC-SHA1"},
		{"oauth_timestamp", "137131202"}, {"oauth_nonce", "chapoH"}}
	base := signatureBase("GET", "http://photos.example.net/photos", params)
	if got := hmacSHA1(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"); got != "MdpQcU8iPSUjWoN/UDMsK2sui9I=" {
		t.Fatalf("signature %s, want MdpQcU8iPSUjWoN/UDMsK2sui9I=", got)
	}
}

// TestAuthorizeXExample signs the request of X's "Creating a signature"
// page end to end, with its nonce and timestamp injected: a query
// parameter and a form body. The page's signature belongs to the host
// api.twitter.com it was computed for (the page now prints api.x.com
// beside the old value).
func TestAuthorizeXExample(t *testing.T) {
	o := NewOAuth1("xvz1evFS4wEEPTGEFPHBog", "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
		"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")
	o.now = func() time.Time { return time.Unix(1318622958, 0) }
	o.nonce = func() string { return "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg" }
	body := "status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21"
	req, err := http.NewRequest(http.MethodPost, "https://api.twitter.com/1.1/statuses/update.json?include_entities=true", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := o.Authorize(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	want := `OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", ` +
		`oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", ` +
		`oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"`
	if got := req.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization\n got %s\nwant %s", got, want)
	}
	// The body is still there for the transport.
	if b, err := io.ReadAll(req.Body); err != nil || string(b) != body {
		t.Fatalf("body after signing %q (%v)", b, err)
	}
}

// TestAuthorizeFreshNonce: every request carries a new nonce and the
// current time, so a retried request is signed anew.
func TestAuthorizeFreshNonce(t *testing.T) {
	o := NewOAuth1("ck", "consumer-secret-value", "at", "token-secret-value")
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest(http.MethodGet, "https://api.x.com/2/dm_events?max_results=5", nil)
		if err := o.Authorize(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		h := req.Header.Get("Authorization")
		_, rest, _ := strings.Cut(h, `oauth_nonce="`)
		nonce, _, _ := strings.Cut(rest, `"`)
		if len(nonce) < 32 || seen[nonce] || percentEncode(nonce) != nonce {
			t.Fatalf("nonce %q (seen before: %v)", nonce, seen[nonce])
		}
		seen[nonce] = true
		if strings.Contains(h, "secret-value") {
			t.Fatalf("the header shows a secret: %s", h)
		}
	}
	if s := fmtV(o); strings.Contains(s, "secret-value") || !strings.Contains(s, "[redacted]") {
		t.Fatalf("printed: %s", s)
	}
}

// FuzzSignatureBase: any query and form the client could send decode and
// normalize without panicking, and the base string is made of unreserved
// characters and escapes only, in its three "&"-separated parts.
func FuzzSignatureBase(f *testing.F) {
	f.Add("b5=%3D%253D&a3=a&c%40=&a2=r%20b", "c2&a3=2+q")
	f.Add("query=%28%22Acme+Oy%22%29+-is%3Aretweet&max_results=10", "")
	f.Add("a=%zz", "")
	f.Fuzz(func(t *testing.T, query, form string) {
		params, err := requestParams(query, []byte(form))
		if err != nil {
			return
		}
		base := signatureBase("GET", "https://api.x.com/2/tweets/search/recent", params)
		if n := strings.Count(base, "&"); n != 2 {
			t.Fatalf("base string has %d separators: %s", n, base)
		}
		for i := 0; i < len(base); i++ {
			c := base[i]
			if !(c == '&' || c == '%' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
				t.Fatalf("base string holds %q: %s", c, base)
			}
		}
	})
}
