package x

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTweetEnvelope(t *testing.T) {
	users := map[string]User{"2001": {ID: "2001", Name: "Maija", Username: "maija"}, "2002": {ID: "2002", Name: "Bad", Username: "not a handle!"}}
	tests := []struct {
		name                                     string
		tw                                       Tweet
		wantErr                                  string
		thread, parent, url, lang, handle, quote string
		created                                  time.Time
	}{
		{name: "plain", tw: Tweet{ID: "1900000000000000000", Text: "hi", AuthorID: "2001", ConversationID: "1900000000000000000", Lang: "fi", CreatedAt: "2025-03-10T12:00:00.000Z"},
			thread: "1900000000000000000", url: "https://x.com/maija/status/1900000000000000000", lang: "fi", handle: "maija", created: t0},
		{name: "reply and quote: parent is the replied-to post", tw: Tweet{ID: "20", Text: "re", AuthorID: "2001", ConversationID: "10",
			ReferencedTweets: []ReferencedTweet{{Type: "quoted", ID: "15"}, {Type: "replied_to", ID: "10"}}},
			thread: "10", parent: "10", quote: "15", url: "https://x.com/maija/status/20", handle: "maija"},
		{name: "quote only", tw: Tweet{ID: "20", Text: "q", ReferencedTweets: []ReferencedTweet{{Type: "quoted", ID: "15"}}},
			thread: "20", parent: "15", quote: "15", url: "https://x.com/i/web/status/20"},
		{name: "unknown author, bad handle, pseudo language", tw: Tweet{ID: "21", Text: "x", AuthorID: "2002", Lang: "qme"},
			thread: "21", url: "https://x.com/i/web/status/21"},
		{name: "no created_at: time from the id", tw: Tweet{ID: "1899067711288246272", Text: "x"},
			thread: "1899067711288246272", url: "https://x.com/i/web/status/1899067711288246272", created: t0},
		{name: "invalid referenced id ignored", tw: Tweet{ID: "22", Text: "x", ReferencedTweets: []ReferencedTweet{{Type: "replied_to", ID: "../1"}}},
			thread: "22", url: "https://x.com/i/web/status/22"},
		{name: "no text", tw: Tweet{ID: "23", Text: "  "}, wantErr: "no text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := tweetEnvelope(tt.tw, users, account)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Validate(); err != nil {
				t.Fatalf("invalid envelope: %v", err)
			}
			if env.ThreadID != tt.thread || env.ParentID != tt.parent || env.URL != tt.url || env.Lang != tt.lang ||
				env.Author.Handle != tt.handle || env.Metadata["quoted_id"] != tt.quote || env.Metadata["account_id"] != account {
				t.Fatalf("envelope %+v", *env)
			}
			if !tt.created.IsZero() && !env.CreatedAt.Equal(tt.created) {
				t.Fatalf("created_at %v, want %v", env.CreatedAt, tt.created)
			}
		})
	}
}

func TestDMFilter(t *testing.T) {
	page := &DMPage{
		Data: []json.RawMessage{
			json.RawMessage(`{"id":"50","event_type":"MessageCreate","text":"new","sender_id":"2001","dm_conversation_id":"2001-` + account + `"}`),
			json.RawMessage(`{"id":"49","event_type":"MessageCreate","text":"mine","sender_id":"` + account + `"}`),
			json.RawMessage(`{"id":"48","event_type":"MessageCreate","text":"","sender_id":"2001","attachments":{"media_keys":["3_1"]}}`),
			json.RawMessage(`{"id":"47","event_type":"ParticipantsJoin","sender_id":"2001"}`),
			json.RawMessage(`{"id":"46","text":7}`),
			json.RawMessage(`{"id":"45","event_type":"MessageCreate","text":"old"}`),
			json.RawMessage(`{"id":"44","event_type":"MessageCreate","text":"older"}`),
		},
		Includes: Includes{Users: []User{{ID: "2001", Name: "Maija", Username: "maija"}}},
	}
	f := filter{userID: account}
	c := f.dms(page, "45")
	if !c.reached || c.newest != "50" {
		t.Fatalf("reached %v newest %q", c.reached, c.newest)
	}
	var got []string
	for _, e := range c.envs {
		got = append(got, e.SourceID+":"+e.Text)
	}
	if strings.Join(got, ",") != "48:[attachment],50:new" {
		t.Fatalf("envelopes %v", got)
	}
	if c.skipped["own"] != 1 || c.skipped["event_type"] != 1 || c.skipped["malformed"] != 1 || len(c.bad) != 1 || !strings.Contains(c.bad[0], `"46"`) {
		t.Fatalf("skipped %v bad %v", c.skipped, c.bad)
	}
	if c.envs[1].Author.Handle != "maija" || c.envs[1].ThreadID != "2001-"+account {
		t.Fatalf("DM envelope %+v", *c.envs[1])
	}
}

func TestIDHelpers(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"9", "10", -1}, {"10", "9", 1}, {"1899067711288246272", "1899067711288246272", 0}, {"0010", "9", 1}} {
		if got := compareIDs(tt.a, tt.b); got != tt.want {
			t.Errorf("compareIDs(%s, %s) = %d", tt.a, tt.b, got)
		}
	}
	if maxID("", "5") != "5" || maxID("12", "9") != "12" || maxID("9", "") != "9" {
		t.Error("maxID")
	}
	for s, want := range map[string]bool{"1": true, "12345678901234567890": false, "": false, "12a": false, "-1": false} {
		if validID(s) != want {
			t.Errorf("validID(%q) != %v", s, want)
		}
	}
	for s, want := range map[string]bool{"1-2": true, "1578398451921985538": true, "1-": false, "a-1": false, "1-2-3": false} {
		if validConversationID(s) != want {
			t.Errorf("validConversationID(%q) != %v", s, want)
		}
	}
	if got := normalizeLang("und"); got != "" {
		t.Error("und kept")
	}
	if got := normalizeLang("pt-BR"); got != "pt-BR" {
		t.Errorf("normalizeLang(pt-BR) = %q", got)
	}
}

func TestSearchQuery(t *testing.T) {
	for _, tt := range []struct {
		q             string
		retweets, own bool
		want          string
	}{
		{"acme", false, false, "(acme) -is:retweet -from:" + account},
		{"acme OR #acme", true, false, "(acme OR #acme) -from:" + account},
		{"acme -is:retweet", false, true, "acme -is:retweet"},
		{"acme", true, true, "acme"},
	} {
		if got := searchQuery(tt.q, account, tt.retweets, tt.own); got != tt.want {
			t.Errorf("searchQuery(%q, %v, %v) = %q, want %q", tt.q, tt.retweets, tt.own, got, tt.want)
		}
	}
}

func TestBudget(t *testing.T) {
	now := t0
	b := NewBudget(30, 20, func() time.Time { return now })
	r := b.Reserve("a", 0, 100)
	if r.N != 20 {
		t.Fatalf("reserved %d, want the per-poll 20", r.N)
	}
	if got := b.Reserve("b", 0, 100).N; got != 10 {
		t.Fatalf("concurrent stream reserved %d, want the 10 left today", got)
	}
	b.Settle("a", r, 5) // read only 5 of 20
	if got := b.Remaining(); got != 15 {
		t.Fatalf("remaining %d after settling, want 15", got)
	}
	if got := b.Reserve("a", 5, 100).N; got != 15 {
		t.Fatalf("reserved %d, want 15 (per poll 20 - 5 read)", got)
	}
	if day, reads := b.Used("a"); day != "2025-03-10" || reads != 20 {
		t.Fatalf("used %s %d", day, reads)
	}
	if got := b.ResetsAt(); !got.Equal(time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("resets at %v", got)
	}
	now = now.Add(13 * time.Hour) // next UTC day
	if got := b.Remaining(); got != 30 {
		t.Fatalf("remaining %d the next day", got)
	}
	b.Restore("a", "2025-03-11", 25)
	b.Restore("b", "2025-03-10", 9) // yesterday's: ignored
	if got := b.Remaining(); got != 5 {
		t.Fatalf("remaining %d after restore, want 5", got)
	}
}
