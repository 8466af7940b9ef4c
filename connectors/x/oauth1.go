package x

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OAuth1 signs requests with OAuth 1.0a user context (RFC 5849, HMAC-SHA1):
// the App's consumer key and secret and the account's access token and
// secret. These credentials do not expire; they stop working only when the
// account revokes the App or someone regenerates them. It implements Auth.
type OAuth1 struct {
	consumerKey, consumerSecret string
	token, tokenSecret          string
	// now and nonce are replaced by tests (fixed timestamp and nonce).
	now   func() time.Time
	nonce func() string
}

// NewOAuth1 returns a signer for the account's access token.
func NewOAuth1(consumerKey, consumerSecret, accessToken, accessTokenSecret string) *OAuth1 {
	return &OAuth1{consumerKey: consumerKey, consumerSecret: consumerSecret, token: accessToken, tokenSecret: accessTokenSecret,
		now: time.Now, nonce: randomNonce}
}

// randomNonce returns 32 random bytes as hex: unique per request, as
// RFC 5849 section 3.3 asks, and made of unreserved characters only.
func randomNonce() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// String hides the credentials: an OAuth1 printed with %v shows no secret.
func (o *OAuth1) String() string { return "X OAuth 1.0a user context [redacted]" }

// GoString hides the credentials from %#v.
func (o *OAuth1) GoString() string { return o.String() }

// Authorize signs req (its method, URL, query and, for a form body, the
// form parameters) and sets its Authorization header. A form body is read
// through req.GetBody, so req.Body is left for the transport.
func (o *OAuth1) Authorize(_ context.Context, req *http.Request) error {
	var form []byte
	if isForm(req.Header.Get("Content-Type")) && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return fmt.Errorf("signing the request: reading its body: %w", err)
		}
		form, err = io.ReadAll(body)
		body.Close()
		if err != nil {
			return fmt.Errorf("signing the request: reading its body: %w", err)
		}
	}
	params, err := requestParams(req.URL.RawQuery, form)
	if err != nil {
		return fmt.Errorf("signing the request: %w", err)
	}
	req.Header.Set("Authorization", o.header(req.Method, req.URL, params, strconv.FormatInt(o.now().Unix(), 10), o.nonce()))
	return nil
}

// header returns the Authorization header for a request with the given
// method, URL and (decoded) query and form parameters.
func (o *OAuth1) header(method string, u *url.URL, params []param, timestamp, nonce string) string {
	oauth := []param{
		{"oauth_consumer_key", o.consumerKey},
		{"oauth_nonce", nonce},
		{"oauth_signature_method", "HMAC-SHA1"},
		{"oauth_timestamp", timestamp},
		{"oauth_token", o.token},
		{"oauth_version", "1.0"},
	}
	base := signatureBase(method, baseURI(u), append(slices.Clone(params), oauth...))
	oauth = append(oauth, param{"oauth_signature", hmacSHA1(base, o.consumerSecret, o.tokenSecret)})
	slices.SortFunc(oauth, func(a, b param) int { return strings.Compare(a.name, b.name) })
	var h strings.Builder
	h.WriteString("OAuth ")
	for i, p := range oauth {
		if i > 0 {
			h.WriteString(", ")
		}
		// RFC 5849 section 3.5.1: names and values percent-encoded, values
		// in double quotes.
		fmt.Fprintf(&h, `%s="%s"`, percentEncode(p.name), percentEncode(p.value))
	}
	return h.String()
}

// param is one name/value pair of a request, decoded.
type param struct{ name, value string }

// requestParams collects the parameters a signature covers besides the
// oauth_* ones (RFC 5849 section 3.4.1.3.1): the query and a form body,
// each decoded as application/x-www-form-urlencoded ("+" is a space).
func requestParams(rawQuery string, form []byte) ([]param, error) {
	var out []param
	for _, src := range []struct {
		what, s string
	}{{"query", rawQuery}, {"form body", string(form)}} {
		ps, err := parseForm(src.s)
		if err != nil {
			return nil, fmt.Errorf("decoding the %s: %w", src.what, err)
		}
		out = append(out, ps...)
	}
	return out, nil
}

// parseForm decodes "a=1&b=&c" into pairs, keeping duplicates and order
// (url.ParseQuery would lose the order and refuses ';').
func parseForm(s string) ([]param, error) {
	var out []param
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			return nil, err
		}
		v, err := url.QueryUnescape(value)
		if err != nil {
			return nil, err
		}
		out = append(out, param{n, v})
	}
	return out, nil
}

// signatureBase builds the signature base string of RFC 5849 section
// 3.4.1: the method, the base string URI and the normalized parameters,
// each percent-encoded and joined by "&".
func signatureBase(method, baseURI string, params []param) string {
	enc := make([]param, len(params))
	for i, p := range params {
		enc[i] = param{percentEncode(p.name), percentEncode(p.value)}
	}
	// Section 3.4.1.3.2: sorted by encoded name, then encoded value.
	slices.SortFunc(enc, func(a, b param) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var norm strings.Builder
	for i, p := range enc {
		if i > 0 {
			norm.WriteByte('&')
		}
		norm.WriteString(p.name)
		norm.WriteByte('=')
		norm.WriteString(p.value)
	}
	return strings.ToUpper(method) + "&" + percentEncode(baseURI) + "&" + percentEncode(norm.String())
}

// baseURI is the base string URI of RFC 5849 section 3.4.1.2: scheme and
// host in lower case, the port only when it is not the scheme's default,
// the path (at least "/"), and neither query nor fragment.
func baseURI(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	switch {
	case port != "" && !(scheme == "http" && port == "80" || scheme == "https" && port == "443"):
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]" // an IPv6 literal on the default port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// hmacSHA1 signs base with the key "consumer secret&token secret" (each
// percent-encoded) and returns the base64 digest (RFC 5849 section 3.4.2).
func hmacSHA1(base, consumerSecret, tokenSecret string) string {
	mac := hmac.New(sha1.New, []byte(percentEncode(consumerSecret)+"&"+percentEncode(tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode encodes s as RFC 5849 section 3.6 asks: every byte of its
// UTF-8 form except the unreserved characters ALPHA, DIGIT, "-", ".", "_"
// and "~" becomes %XY with upper-case hex. (url.QueryEscape differs: it
// writes a space as "+" and encodes "~".)
func percentEncode(s string) string {
	const hexUpper = "0123456789ABCDEF"
	var b bytes.Buffer
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&0xf])
	}
	return b.String()
}

// isForm reports whether a Content-Type is a single-part form body, whose
// parameters a signature covers (RFC 5849 section 3.4.1.3.1).
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}
