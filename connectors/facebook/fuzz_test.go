package facebook

import (
	"net/http"
	"testing"
)

// FuzzParseFeed feeds arbitrary Graph answers through the feed and
// conversation parsers and the envelope builders: they must never panic, and
// whatever decodes must normalize into a valid envelope.
func FuzzParseFeed(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"111_222","created_time":"2026-11-20T10:15:30+0000","updated_time":"2026-11-20T11:00:00+0000","message":"Lasku on väärin","from":{"id":"9","name":"Maija"},"comments":{"data":[{"id":"222_3","created_time":"2026-11-20T10:20:00+0000","message":"Sama","from":{"id":"8","name":"Ville"},"parent":{"id":"222_1"}}],"paging":{"cursors":{"before":"QVFI","after":"QVFJ"},"next":"https://graph.facebook.com/v26.0/111_222/comments?after=QVFJ"}}}],"paging":{"next":"https://graph.facebook.com/v26.0/111/feed?access_token=x&after=QVFJ"}}`))
	f.Add([]byte(`{"data":[{"id":"t_1","updated_time":"2026-11-20T10:15:30+0000","link":"/111/inbox/t_1","messages":{"data":[{"id":"m_1","created_time":1795169730,"message":"","sticker":"https://x/s.png","from":{"id":"7"}}]}}]}`))
	f.Add([]byte(`{"data":[{"id":"","created_time":"x"},{"id":"a b"},null,1,"s"]}`))
	f.Add([]byte(`{"error":{"message":"bad","code":190}}`))
	f.Add([]byte(`{"data":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := parseEdge(body)
		if err != nil {
			return
		}
		for _, raw := range e.Data {
			if p, err := decodePost(raw); err == nil {
				if err := postEnvelope("111", p).Validate(); err != nil {
					t.Fatalf("post %s: invalid envelope: %v", p.ID, err)
				}
				if p.Comments != nil {
					for _, rc := range p.Comments.Data {
						if c, err := decodeComment(rc); err == nil {
							if err := commentEnvelope("111", p.ID, c).Validate(); err != nil {
								t.Fatalf("comment %s: invalid envelope: %v", c.ID, err)
							}
						}
					}
				}
			}
			if c, err := decodeConversation(raw); err == nil && c.Messages != nil {
				for _, rm := range c.Messages.Data {
					if m, err := decodeMessage(rm); err == nil {
						if err := messageEnvelope("111", c, m).Validate(); err != nil {
							t.Fatalf("message %s: invalid envelope: %v", m.ID, err)
						}
					}
				}
			}
		}
	})
}

// FuzzDecodeAnswer: any status and body make an edge or a classified
// error, never a panic, and an error's text stays bounded.
func FuzzDecodeAnswer(f *testing.F) {
	f.Add(200, []byte(`{"data":[{"id":"1"}],"paging":{"cursors":{"after":"QQ"},"next":"https://graph.facebook.com/x"},"summary":{"order":"ranked","total_count":3}}`))
	f.Add(400, []byte(`{"error":{"message":"Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1"}}`))
	f.Add(200, []byte(`{"error":{"code":"x"}}`))
	f.Add(502, []byte(`<html>Bad Gateway</html>`))
	f.Add(0, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e, ge := decodeAnswer("feed of page 1", status, body)
		if (e == nil) == (ge == nil) {
			t.Fatalf("edge %v and error %v", e, ge)
		}
		if ge != nil && len(ge.Error()) > 1000 {
			t.Fatalf("error text of %d bytes", len(ge.Error()))
		}
		if e != nil && e.Data == nil {
			t.Fatal("an edge without data")
		}
	})
}

// FuzzParseUsage: usage headers never panic and stay within bounds.
func FuzzParseUsage(f *testing.F) {
	f.Add(`{"call_count":28,"total_time":25,"total_cputime":25}`, `{"1":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":19}]}`)
	f.Add(`{"call_count":1e308}`, `{"1":[{"estimated_time_to_regain_access":-1e308}]}`)
	f.Add(`nonsense`, `{"1":null}`)
	f.Fuzz(func(t *testing.T, app, buc string) {
		h := http.Header{}
		h.Set("X-App-Usage", app)
		h.Set("X-Business-Use-Case-Usage", buc)
		u := parseUsage(h)
		if u.App < 0 || u.App > 1000 || u.BUC < 0 || u.BUC > 1000 || u.Regain < 0 || u.Regain > maxRegainMinutes*60e9 {
			t.Fatalf("usage out of bounds: %+v", u)
		}
	})
}
