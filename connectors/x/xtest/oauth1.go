package xtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// OAuth 1.0a user context, verified as RFC 5849 and X's "Authorizing a
// request" describe, and where they leave room, strictly: the signature
// must be HMAC-SHA1 over the method, the base string URI, the query, a form
// body and the oauth_* parameters; oauth_version, when sent, must be 1.0;
// a timestamp further than OAuth1Window from the fake's clock is stale; a
// nonce is accepted once, ever. Every refusal is a 401 with X's problem
// body, and its reason is kept for tests (OAuth1Failures).

// checkOAuth1 verifies an "Authorization: OAuth ..." request. It returns
// "" when the request is signed with the account's access token, else why
// it is refused. s.mu must not be held.
func (s *Server) checkOAuth1(r *http.Request) string {
	params, err := parseOAuthHeader(r.Header.Get("Authorization"))
	if err != nil {
		return err.Error()
	}
	for _, k := range []string{"oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_signature"} {
		if params[k] == "" {
			return "missing " + k
		}
	}
	if v, ok := params["oauth_version"]; ok && v != "1.0" {
		return "oauth_version " + v
	}
	if params["oauth_signature_method"] != "HMAC-SHA1" {
		return "signature method " + params["oauth_signature_method"]
	}
	var form []byte
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" && r.Body != nil {
		form, err = io.ReadAll(r.Body)
		if err != nil {
			return "unreadable body"
		}
		r.Body = io.NopCloser(bytes.NewReader(form))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if params["oauth_consumer_key"] != s.ConsumerKey {
		return "unknown consumer key"
	}
	if params["oauth_token"] != s.AccessToken || s.oauth1Revoked {
		return "unknown or revoked access token"
	}
	ts, err := strconv.ParseInt(params["oauth_timestamp"], 10, 64)
	if err != nil {
		return "timestamp not a number"
	}
	if skew := s.Now().Sub(time.Unix(ts, 0)); skew > s.OAuth1Window || skew < -s.OAuth1Window {
		return fmt.Sprintf("stale timestamp (%s off)", skew)
	}
	want := signOAuth1(r.Method, "http://"+strings.ToLower(r.Host)+r.URL.EscapedPath(), r.URL.RawQuery, string(form), params,
		s.ConsumerSecret, s.AccessTokenSecret)
	if !hmac.Equal([]byte(want), []byte(params["oauth_signature"])) {
		return "wrong signature"
	}
	if s.nonces[params["oauth_nonce"]] {
		return "nonce used before"
	}
	s.nonces[params["oauth_nonce"]] = true
	return ""
}

// parseOAuthHeader splits `OAuth k="v", ...` into its decoded parameters
// (RFC 5849 section 3.5.1), without the realm. A repeated parameter is an
// error.
func parseOAuthHeader(h string) (map[string]string, error) {
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "OAuth") {
		return nil, fmt.Errorf("not an OAuth header")
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, fmt.Errorf("malformed OAuth parameter %q", part)
		}
		name, err1 := url.PathUnescape(k)
		value, err2 := url.PathUnescape(v[1 : len(v)-1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed OAuth parameter %q", part)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("repeated OAuth parameter %s", name)
		}
		if name != "realm" {
			out[name] = value
		}
	}
	return out, nil
}

// signOAuth1 computes the HMAC-SHA1 signature of a request: its method,
// base string URI, raw query, raw form body and oauth parameters (the
// oauth_signature among them is left out).
func signOAuth1(method, baseURI, rawQuery, form string, oauth map[string]string, consumerSecret, tokenSecret string) string {
	var pairs [][2]string
	for _, raw := range []string{rawQuery, form} {
		for _, kv := range strings.Split(raw, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			k, _ = url.QueryUnescape(k)
			v, _ = url.QueryUnescape(v)
			pairs = append(pairs, [2]string{encode(k), encode(v)})
		}
	}
	for k, v := range oauth {
		if k != "oauth_signature" {
			pairs = append(pairs, [2]string{encode(k), encode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	joined := make([]string, len(pairs))
	for i, p := range pairs {
		joined[i] = p[0] + "=" + p[1]
	}
	base := strings.ToUpper(method) + "&" + encode(baseURI) + "&" + encode(strings.Join(joined, "&"))
	mac := hmac.New(sha1.New, []byte(encode(consumerSecret)+"&"+encode(tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// encode percent-encodes all but the unreserved characters (RFC 3986
// section 2.3), as RFC 5849 section 3.6 asks.
func encode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
