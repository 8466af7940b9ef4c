package xtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSignOAuth1XExample checks the fake's own signer against the worked
// example of X's "Creating a signature" page (computed for the host
// api.twitter.com).
func TestSignOAuth1XExample(t *testing.T) {
	got := signOAuth1("POST", "https://api.twitter.com/1.1/statuses/update.json", "include_entities=true",
		"status=Hello%20Ladies%20%2b%20Gentlemen%2c%20a%20signed%20OAuth%20request%21",
		map[string]string{
			"oauth_consumer_key":     "xvz1evFS4wEEPTGEFPHBog",
			"oauth_nonce":            "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
			"oauth_signature_method": "HMAC-SHA1",
			"oauth_timestamp":        "1318622958",
			"oauth_token":            "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
			"oauth_version":          "1.0",
		}, "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw", "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")
	if got != "hCtSmYh+iHYCEqBWrE7C7hYmtUk=" {
		t.Fatalf("signature %s, want hCtSmYh+iHYCEqBWrE7C7hYmtUk=", got)
	}
}

// TestOAuth1Verification: a correctly signed request is the account's user
// context; everything else is a 401 with the reason kept.
func TestOAuth1Verification(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		change func(s *Server, p map[string]string)
		// resign signs again after change (else the signature is the one
		// of the unchanged parameters).
		resign bool
		twice  bool
		want   string // "" for accepted
	}{
		{name: "valid", resign: true},
		{name: "valid without oauth_version", change: func(_ *Server, p map[string]string) { delete(p, "oauth_version") }, resign: true},
		{name: "wrong signature", change: func(_ *Server, p map[string]string) { p["oauth_signature"] = "AAAA" + p["oauth_signature"][4:] }, want: "wrong signature"},
		{name: "query changed after signing", change: func(_ *Server, p map[string]string) { p["oauth_nonce"] = "other" }, want: "wrong signature"},
		{name: "stale timestamp", change: func(_ *Server, p map[string]string) {
			p["oauth_timestamp"] = strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
		}, resign: true, want: "stale timestamp"},
		{name: "timestamp from the future", change: func(_ *Server, p map[string]string) {
			p["oauth_timestamp"] = strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
		}, resign: true, want: "stale timestamp"},
		{name: "reused nonce", resign: true, twice: true, want: "nonce used before"},
		{name: "unknown consumer key", change: func(_ *Server, p map[string]string) { p["oauth_consumer_key"] = "other" }, resign: true, want: "unknown consumer key"},
		{name: "revoked token", change: func(s *Server, _ map[string]string) { s.RevokeOAuth1() }, resign: true, want: "revoked"},
		{name: "PLAINTEXT", change: func(_ *Server, p map[string]string) { p["oauth_signature_method"] = "PLAINTEXT" }, resign: true, want: "signature method"},
		{name: "oauth_version 2.0", change: func(_ *Server, p map[string]string) { p["oauth_version"] = "2.0" }, resign: true, want: "oauth_version"},
		{name: "no nonce", change: func(_ *Server, p map[string]string) { delete(p, "oauth_nonce") }, resign: true, want: "missing oauth_nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t)
			s.Now = func() time.Time { return now }
			rawQuery := "max_results=10&tweet.fields=created_at%2Cauthor_id&query=%22Acme+Oy%22"
			p := map[string]string{
				"oauth_consumer_key": s.ConsumerKey, "oauth_nonce": "n-" + randHex(), "oauth_signature_method": "HMAC-SHA1",
				"oauth_timestamp": strconv.FormatInt(now.Unix(), 10), "oauth_token": s.AccessToken, "oauth_version": "1.0",
			}
			host := strings.TrimPrefix(s.URL, "http://")
			sign := func() {
				p["oauth_signature"] = signOAuth1("GET", "http://"+host+"/2/tweets/search/recent", rawQuery, "", p, s.ConsumerSecret, s.AccessTokenSecret)
			}
			sign()
			if tt.change != nil {
				tt.change(s, p)
			}
			if tt.resign {
				sign()
			}
			do := func() int {
				req, _ := http.NewRequest(http.MethodGet, s.URL+"/2/tweets/search/recent?"+rawQuery, nil)
				req.Header.Set("Authorization", oauthHeader(p))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			status := do()
			if tt.twice {
				if status != http.StatusOK {
					t.Fatalf("first use: %d %v", status, s.OAuth1Failures())
				}
				status = do()
			}
			fails := s.OAuth1Failures()
			if tt.want == "" {
				if status != http.StatusOK || len(fails) != 0 {
					t.Fatalf("status %d, failures %v", status, fails)
				}
				return
			}
			if status != http.StatusUnauthorized || len(fails) != 1 || !strings.Contains(fails[0], tt.want) {
				t.Fatalf("status %d, failures %v; want 401 for %q", status, fails, tt.want)
			}
		})
	}
}

func oauthHeader(p map[string]string) string {
	var parts []string
	for k, v := range p {
		parts = append(parts, fmt.Sprintf(`%s="%s"`, encode(k), encode(v)))
	}
	sort.Strings(parts)
	return "OAuth " + strings.Join(parts, ", ")
}
