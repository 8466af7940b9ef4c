package x

import (
	"testing"
	"unicode/utf8"
)

// Seeds: the documented shapes, partial errors, and near misses.
var tweetSeeds = []string{
	`{"data":[{"id":"1899067753231286272","text":"@acme lasku","author_id":"2001","conversation_id":"1899067715482550272","created_at":"2025-03-10T12:00:10.000Z","lang":"fi","referenced_tweets":[{"type":"replied_to","id":"1899067715482550272"}],"edit_history_tweet_ids":["1899067753231286272"]}],"includes":{"users":[{"id":"2001","name":"Maija","username":"maija"}],"tweets":[{"id":"1899067715482550272","text":"parent"}]},"meta":{"newest_id":"1899067753231286272","oldest_id":"1899067753231286272","result_count":1,"next_token":"b26v89c19zqg8o3fpz"}}`,
	`{"meta":{"result_count":0}}`,
	`{"data":[{"id":"20","text":"RT x","referenced_tweets":[{"type":"retweeted","id":"1"}]}],"errors":[{"value":"1","detail":"Could not find tweet with referenced_tweets.id: [1].","title":"Not Found Error","resource_type":"tweet","parameter":"referenced_tweets.id","resource_id":"1","type":"https://api.twitter.com/2/problems/resource-not-found"}],"meta":{"result_count":1}}`,
	`{"errors":[{"value":"99","detail":"Could not find user with id: [99].","title":"Not Found Error","resource_type":"user","parameter":"id","resource_id":"99","type":"https://api.twitter.com/2/problems/resource-not-found"}]}`,
	`{"data":[{"id":"1","text":42},{"id":"x","text":"a"},{"id":"2","text":""},{"id":"3","text":"ok","note_tweet":{"text":"long"}}],"includes":{"users":[{"id":1}],"tweets":[7]},"errors":[3,"x"],"meta":{"result_count":4,"newest_id":"3"}}`,
	`{"data":[{"id":"1899067753231286272","text":"@maija kiitos","author_id":"1500000000000000001","created_at":"2025-03-10T12:20:10.000Z","in_reply_to_user_id":"2001","referenced_tweets":[{"type":"replied_to","id":"1899067715482550272"}],"edit_history_tweet_ids":["1899067753231286272"]},{"id":"1899067753231286273","text":"x","author_id":"1500000000000000001","edit_history_tweet_ids":["1899067753231286270","1899067753231286273"],"referenced_tweets":[{"type":"replied_to","id":"5"}]}],"includes":{"users":[{"id":"1500000000000000001","name":"Acme","username":"acme"}]},"meta":{"result_count":2}}`,
	`{"data":{"id":"1"}}`,
	`null`, ``, `[]`, `<html>`, `{"meta":{"result_count":"1"}}`,
}

var dmSeeds = []string{
	`{"data":[{"id":"1582838499983564806","event_type":"MessageCreate","text":"Hi everyone.","sender_id":"944480690","dm_conversation_id":"1578398451921985538","created_at":"2022-10-19T20:58:00.000Z"},{"id":"1582835469712138240","event_type":"ParticipantsJoin","participant_ids":["944480690"],"sender_id":"17200003","dm_conversation_id":"1578398451921985538","created_at":"2022-10-19T20:45:58.000Z"}],"includes":{"users":[{"id":"944480690","name":"A","username":"a"}]},"meta":{"result_count":2,"next_token":"18LAA5FFPEKJA52G0G00ZZZZ"}}`,
	`{"data":[{"id":"5","event_type":"MessageCreate","text":"","attachments":{"media_keys":["3_1"]},"referenced_tweets":[{"id":"9"}]}],"meta":{"result_count":1}}`,
	`{"data":[{"id":5}],"meta":{}}`,
	`{"data":[{"id":"1582838499983564807","event_type":"MessageCreate","text":"Katsotaan.","sender_id":"1500000000000000001","dm_conversation_id":"944480690-1500000000000000001","created_at":"2022-10-19T21:00:00.000Z"},{"id":"1582838499983564808","event_type":"MessageCreate","text":"x","sender_id":"1500000000000000001"}],"includes":{"users":[{"id":"1500000000000000001","name":"Acme","username":"acme"}]},"meta":{"result_count":2}}`,
	`{"meta":{"result_count":0}}`,
}

func FuzzDecodeTweetPage(f *testing.F) {
	for _, s := range tweetSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := decodePage[TweetPage](EndpointMentions, body)
		if err != nil {
			if page != nil {
				t.Fatal("page and error")
			}
			_ = err.Error()
			return
		}
		for _, p := range page.Errors {
			if s := p.String(); !utf8.ValidString(s) && utf8.Valid(body) {
				t.Fatalf("problem text not UTF-8: %q", s)
			}
		}
		for _, fl := range []filter{{userID: account}, {userID: account, includeOwn: true, includeRetweets: true}} {
			c := fl.tweets(page)
			for _, env := range c.envs {
				if err := env.Validate(); err != nil {
					t.Fatalf("converted an invalid envelope %+v: %v", *env, err)
				}
			}
			if c.newest != "" && !validID(c.newest) || c.oldest != "" && !validID(c.oldest) {
				t.Fatalf("cursor ids %q %q", c.newest, c.oldest)
			}
			if len(c.envs)+sum(c.skipped) != len(page.Data) {
				t.Fatalf("%d envelopes + %v skipped != %d items", len(c.envs), c.skipped, len(page.Data))
			}
		}
		// The same page as the account's own posts: every item is a
		// response or counted as skipped, and every response links.
		c := filter{userID: account}.replies(page)
		for _, r := range c.responses {
			if err := r.Validate(); err != nil || r.InReplyTo == "" || r.ThreadID != "" {
				t.Fatalf("converted an invalid reply response %+v: %v", *r, err)
			}
		}
		if len(c.responses)+sum(c.skipped) != len(page.Data) {
			t.Fatalf("%d responses + %v skipped != %d items", len(c.responses), c.skipped, len(page.Data))
		}
	})
}

func FuzzDecodeDMPage(f *testing.F) {
	for _, s := range dmSeeds {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "1582835469712138240")
	}
	f.Fuzz(func(t *testing.T, body []byte, lastID string) {
		page, err := decodePage[DMPage](EndpointDMEvents, body)
		if err != nil {
			return
		}
		if !validID(lastID) {
			lastID = ""
		}
		c := filter{userID: account, responses: true}.dms(page, lastID)
		for _, r := range c.responses {
			if err := r.Validate(); err != nil || r.ThreadID == "" || r.InReplyTo != "" {
				t.Fatalf("converted an invalid DM response %+v: %v", *r, err)
			}
		}
		for _, env := range c.envs {
			if err := env.Validate(); err != nil {
				t.Fatalf("converted an invalid envelope %+v: %v", *env, err)
			}
			if lastID != "" && compareIDs(env.SourceID, lastID) <= 0 {
				t.Fatalf("ingested %s, not newer than the checkpoint %s", env.SourceID, lastID)
			}
		}
	})
}

func FuzzProblemOf(f *testing.F) {
	f.Add([]byte(`{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`), 401)
	f.Add([]byte(`{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`), 429)
	f.Add([]byte(`{"errors":[{"parameters":{"since_id":["1"]},"message":"Invalid"}],"title":"Invalid Request","type":"https://api.twitter.com/2/problems/invalid-request"}`), 400)
	f.Add([]byte(`<html>`), 503)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		p := problemOf(body, status)
		if p.String() == "" {
			t.Fatal("empty problem text")
		}
		e := &APIError{Endpoint: EndpointSearch, Status: status, Problem: p}
		_ = e.Error()
		_ = e.staleID()
	})
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
