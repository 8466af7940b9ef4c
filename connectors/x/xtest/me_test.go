package xtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// accessToken trades refresh for an access token at the fake's token
// endpoint, as the connector's refresh flow does.
func accessToken(t *testing.T, s *Server, refresh string) string {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {s.ClientID}}
	resp, err := http.PostForm(s.URL+"/2/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token endpoint: HTTP %d, %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}

// TestMe: GET /2/users/me names the user a token acts for, takes user
// context only and requires the scopes of the reference.
func TestMe(t *testing.T) {
	s := New(t)
	s.AddUser(User{ID: s.AccountID, Username: "acme", Name: "Acme Oy"}, User{ID: "2001", Username: "maija", Name: "Maija"})
	account := accessToken(t, s, s.IssueRefreshToken())
	other := accessToken(t, s, s.IssueRefreshTokenFor("2001"))
	s.Scope = "dm.read offline.access"
	narrow := accessToken(t, s, s.IssueRefreshToken())

	tests := []struct {
		name, auth, query string
		status            int
		want              string // data.id, or the problem title
	}{
		{name: "the account's token", auth: "Bearer " + account, status: 200, want: s.AccountID},
		{name: "another account's token", auth: "Bearer " + other, status: 200, want: "2001"},
		{name: "OAuth 1.0a", status: 200, want: s.AccountID},
		{name: "user.fields", auth: "Bearer " + account, query: "user.fields=created_at", status: 200, want: s.AccountID},
		{name: "app-only", auth: "Bearer " + s.AppToken, status: 403, want: "Unsupported Authentication"},
		{name: "no users.read scope", auth: "Bearer " + narrow, status: 403, want: "Forbidden"},
		{name: "unknown token", auth: "Bearer at-nope", status: 401, want: "Unauthorized"},
		{name: "unknown parameter", auth: "Bearer " + account, query: "max_results=5", status: 400, want: "Invalid Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/2/users/me?"+tt.query, nil)
			req.Header.Set("Authorization", tt.auth)
			if tt.auth == "" { // OAuth 1.0a, signed per request
				p := map[string]string{
					"oauth_consumer_key": s.ConsumerKey, "oauth_nonce": "n-" + randHex(), "oauth_signature_method": "HMAC-SHA1",
					"oauth_timestamp": strconv.FormatInt(time.Now().Unix(), 10), "oauth_token": s.AccessToken,
				}
				p["oauth_signature"] = signOAuth1("GET", "http://"+req.URL.Host+"/2/users/me", "", "", p, s.ConsumerSecret, s.AccessTokenSecret)
				req.Header.Set("Authorization", oauthHeader(p))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Data  map[string]string `json:"data"`
				Title string            `json:"title"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			got := body.Title
			if tt.status == 200 {
				got = body.Data["id"]
				if body.Data["username"] == "" || body.Data["name"] == "" || len(body.Data) != 3 {
					t.Fatalf("data %v: want id, name and username", body.Data)
				}
			}
			if resp.StatusCode != tt.status || got != tt.want {
				t.Fatalf("HTTP %d %q, want %d %q", resp.StatusCode, got, tt.status, tt.want)
			}
			if resp.Header.Get("x-rate-limit-limit") != "75" {
				t.Fatalf("x-rate-limit-limit %q, want X's user limit 75", resp.Header.Get("x-rate-limit-limit"))
			}
		})
	}
}
