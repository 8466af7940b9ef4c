package facebook

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/secret"
)

func TestClassifyCode(t *testing.T) {
	tests := []struct {
		status, code int
		transient    bool
		want         errClass
	}{
		{400, 4, false, classRateLimit},
		{400, 17, false, classRateLimit},
		{400, 32, false, classRateLimit},
		{400, 613, false, classRateLimit},
		{400, 80001, false, classRateLimit},
		{429, 0, false, classRateLimit},
		{400, 190, false, classToken},
		{400, 102, false, classToken},
		{403, 10, false, classPermission},
		{403, 200, false, classPermission},
		{403, 299, false, classPermission},
		{500, 2, true, classTransient},
		{400, 1, false, classTransient},
		{400, 100, true, classTransient},
		{503, 0, false, classTransient},
		{400, 100, false, classOther},
	}
	for _, tt := range tests {
		if got := classifyCode(tt.status, tt.code, tt.transient); got != tt.want {
			t.Errorf("classifyCode(%d, %d, %v) = %v, want %v", tt.status, tt.code, tt.transient, got, tt.want)
		}
	}
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		name          string
		app, buc      string
		wantApp, wBUC int
		wantRegain    time.Duration
		factor        int
		blocked       bool
	}{
		{"none", "", "", 0, 0, 0, 1, false},
		{"low", `{"call_count":28,"total_time":25,"total_cputime":25}`, "", 28, 0, 0, 1, false},
		{"buc high", "", `{"1":[{"type":"pages","call_count":80,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":0}]}`, 0, 80, 0, 2, false},
		{"buc higher", "", `{"1":[{"type":"pages","call_count":91,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":0}]}`, 0, 91, 0, 4, false},
		{"blocked", "", `{"1":[{"type":"pages","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":19}]}`, 0, 100, 19 * time.Minute, 4, true},
		{"fractional", `{"call_count":12.5,"total_time":1,"total_cputime":1}`, "", 13, 0, 0, 1, false},
		{"garbage", `{call_count`, `[1,2]`, 0, 0, 0, 1, false},
		{"absurd regain", "", `{"1":[{"call_count":1,"estimated_time_to_regain_access":99999999}]}`, 0, 1, 24 * time.Hour, 1, true},
		{"negative", `{"call_count":-5}`, "", 0, 0, 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.app != "" {
				h.Set("X-App-Usage", tt.app)
			}
			if tt.buc != "" {
				h.Set("X-Business-Use-Case-Usage", tt.buc)
			}
			u := parseUsage(h)
			if u.App != tt.wantApp || u.BUC != tt.wBUC || u.Regain != tt.wantRegain {
				t.Fatalf("usage = %+v, want app %d buc %d regain %s", u, tt.wantApp, tt.wBUC, tt.wantRegain)
			}
			if u.factor() != tt.factor || u.blocked() != tt.blocked {
				t.Fatalf("factor %d blocked %v, want %d %v", u.factor(), u.blocked(), tt.factor, tt.blocked)
			}
		})
	}
}

func TestRateLimitWait(t *testing.T) {
	if d := rateLimitWait(usage{Regain: 7 * time.Minute}, 5); d != 7*time.Minute {
		t.Errorf("with regain: %s", d)
	}
	for streak, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 10: time.Hour} {
		if d := rateLimitWait(usage{}, streak); d != want {
			t.Errorf("streak %d: %s, want %s", streak, d, want)
		}
	}
}

func TestCheckpointSemantics(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	st := newKindState(t0.Add(-24 * time.Hour))
	if st.since() != t0.Add(-24*time.Hour).Unix() {
		t.Fatalf("first since %d: the floor must not be undercut", st.since())
	}
	if st.isNew("old", t0.Add(-25*time.Hour)) || !st.isNew("a", t0.Add(-time.Hour)) {
		t.Fatal("isNew before the first pass")
	}
	st.markSeen("a", t0.Add(-time.Hour))
	st.markSeen("b", t0.Add(-30*time.Second))
	if st.isNew("a", t0.Add(-time.Hour)) {
		t.Fatal("a seen item is new again")
	}
	st.complete(t0)
	if want := t0.Add(-overlap).Unix(); st.since() != want {
		t.Fatalf("since after pass = %d, want watermark-overlap %d", st.since(), want)
	}
	if _, ok := st.Seen["a"]; ok {
		t.Fatal("an item before the overlap was not forgotten")
	}
	if _, ok := st.Seen["b"]; !ok || st.isNew("b", t0.Add(-30*time.Second)) {
		t.Fatal("an item inside the overlap was forgotten: it would be ingested twice")
	}
	st.complete(t0.Add(-time.Hour)) // a clock going back never moves the watermark back
	if st.Watermark != t0.Unix() {
		t.Fatalf("watermark moved back to %d", st.Watermark)
	}
	cp := &checkpoint{V: checkpointVersion, Feed: st}
	back, err := decodeCheckpoint(cp.encode(), t0)
	if err != nil || back.Feed.Watermark != st.Watermark || len(back.Feed.Seen) != 1 {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []string{`{`, `{"v":9}`, `[]`} {
		if _, err := decodeCheckpoint([]byte(bad), t0); err == nil {
			t.Errorf("checkpoint %s accepted", bad)
		}
	}
}

func TestCheckpointMigration(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	unix := func(d time.Duration) int64 { return now.Add(d).Unix() }
	tests := []struct {
		name             string
		v1               string
		recover, sweepAt int64
		feedW, messagesW int64
		messagesOnly     bool
	}{
		{"watermark an hour ago", fmt.Sprintf(`{"v":1,"feed":{"floor":%d,"watermark":%d,"seen":{"x":%d}},"messages":{"floor":%d,"watermark":%d}}`,
			unix(-10*24*time.Hour), unix(-time.Hour), unix(-time.Minute), unix(-10*24*time.Hour), unix(-time.Hour)),
			unix(-23 * time.Hour), unix(-23 * time.Hour), unix(-time.Hour), unix(-time.Hour), false},
		{"first poll this morning", fmt.Sprintf(`{"v":1,"feed":{"floor":%d,"watermark":%d}}`, unix(-2*time.Hour), unix(-time.Hour)),
			unix(-2 * time.Hour), unix(-2 * time.Hour), unix(-time.Hour), 0, false},
		{"down for two days", fmt.Sprintf(`{"v":1,"feed":{"floor":%d,"watermark":%d}}`, unix(-30*24*time.Hour), unix(-48*time.Hour)),
			0, unix(-48*time.Hour) - 120, unix(-48 * time.Hour), 0, false},
		{"messages only", fmt.Sprintf(`{"v":1,"messages":{"floor":%d,"watermark":%d}}`, unix(-2*time.Hour), unix(-time.Hour)),
			0, 0, 0, unix(-time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := decodeCheckpoint([]byte(tt.v1), now)
			if err != nil {
				t.Fatal(err)
			}
			if cp.V != checkpointVersion || cp.Recover != tt.recover {
				t.Fatalf("v %d recover %d, want %d", cp.V, cp.Recover, tt.recover)
			}
			if tt.messagesOnly {
				if cp.Feed != nil || cp.Sweep != nil || cp.Messages.Watermark != tt.messagesW {
					t.Fatalf("%+v", cp)
				}
				return
			}
			if cp.Feed.Watermark != tt.feedW || cp.Sweep.since() != tt.sweepAt {
				t.Fatalf("feed watermark %d, sweep since %d; want %d, %d", cp.Feed.Watermark, cp.Sweep.since(), tt.feedW, tt.sweepAt)
			}
			if tt.messagesW != 0 && cp.Messages.Watermark != tt.messagesW {
				t.Fatalf("messages watermark %d", cp.Messages.Watermark)
			}
			if from := cp.commentsFrom(); tt.recover != 0 && from != tt.recover {
				t.Fatalf("comments from %d, want the recovery %d", from, tt.recover)
			}
			cp.completeFeed(now, 30*24*time.Hour, nil)
			if cp.Recover != 0 || cp.commentsFrom() != cp.Feed.since() {
				t.Fatal("the recovery outlived a complete pass")
			}
		})
	}
}

func TestDecodeAnswer(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		class  errClass
		ok     bool
		text   string
	}{
		{"list", 200, `{"data":[{"id":"1"}],"paging":{"cursors":{"after":"QQ"},"next":"https://graph.facebook.com/x"}}`, 0, true, ""},
		{"empty list", 200, `{"data":[]}`, 0, true, ""},
		{"no data", 200, `{"id":"1"}`, classMalformed, false, `no "data" array`},
		{"html 200", 200, `<html>`, classMalformed, false, "malformed list response"},
		{"token", 400, `{"error":{"message":"Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1"}}`, classToken, false, "code 190 subcode 463 (OAuthException): Session has expired [HTTP 400] [fbtrace_id A1]"},
		{"rate limit", 400, `{"error":{"message":"(#80001) too many calls","code":80001}}`, classRateLimit, false, "code 80001"},
		{"transient flag", 400, `{"error":{"message":"temporary","code":100,"is_transient":true}}`, classTransient, false, "code 100"},
		{"error object on 200", 200, `{"error":{"message":"odd","code":2}}`, classTransient, false, "code 2"},
		{"error without code on 200", 200, `{"error":{"message":"odd"}}`, classMalformed, false, "odd"},
		{"html 502", 502, `<html>Bad Gateway</html>`, classTransient, false, "HTTP 502: the answer is not Graph API JSON"},
		{"429", 429, ``, classRateLimit, false, "HTTP 429"},
		{"404 json", 404, `{"message":"no"}`, classOther, false, "error status without a Graph API error object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ge := decodeAnswer("feed of page 1", tt.status, []byte(tt.body))
			if tt.ok {
				if ge != nil || e == nil {
					t.Fatalf("error %v", ge)
				}
				return
			}
			if ge == nil {
				t.Fatalf("no error; want class %v with %q", tt.class, tt.text)
			}
			if ge.class != tt.class || !strings.Contains(ge.Error(), tt.text) || !strings.HasPrefix(ge.Error(), "reading feed of page 1: ") {
				t.Fatalf("got %v (class %v), want class %v with %q", ge, ge.class, tt.class, tt.text)
			}
		})
	}
}

func TestReplaysForgetAfterTheirTime(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	r := newReplays(time.Minute, 3)
	a, b, c, d := [32]byte{1}, [32]byte{2}, [32]byte{3}, [32]byte{4}
	if !r.first(a, now) || r.first(a, now.Add(30*time.Second)) {
		t.Fatal("a replay within the ttl was not caught")
	}
	if !r.first(a, now.Add(61*time.Second)) {
		t.Fatal("a signature was remembered past its ttl")
	}
	r.first(b, now.Add(62*time.Second))
	r.first(c, now.Add(63*time.Second))
	r.first(d, now.Add(64*time.Second)) // full: the oldest (a) goes
	if len(r.seen) > 3 || !r.first(a, now.Add(65*time.Second)) || r.first(d, now.Add(65*time.Second)) {
		t.Fatalf("bounded memory: %d entries", len(r.seen))
	}
}

func TestPacerBlocksUntilTheLimitLifts(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var pc pacer
	if err := pc.check(now, "x"); err != nil {
		t.Fatal(err)
	}
	pc.block(now.Add(7*time.Minute), "code 80001")
	err := pc.check(now.Add(time.Minute), "feed of page 1")
	if c, _ := classOf(err); c != classRateLimit || !strings.Contains(err.Error(), "6m0s left") || !strings.Contains(err.Error(), "code 80001") {
		t.Fatalf("blocked: %v", err)
	}
	if err := pc.check(now.Add(7*time.Minute), "x"); err != nil {
		t.Fatalf("still blocked at the end of the pause: %v", err)
	}
}

func TestCheckNextStaysOnTheGraphHost(t *testing.T) {
	g, err := newGraphClient(graphOptions{BaseURL: "https://graph.example/", Version: "v26.0", Token: "EAAsecret", AppSecret: "appsec", PageID: "1",
		Redactor: secret.NewRedactor()})
	if err != nil {
		t.Fatal(err)
	}
	u, err := g.checkNext("https://graph.example/v26.0/1/feed?access_token=EAAsecret&after=abc&limit=25")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u, "EAAsecret") || !strings.Contains(u, "after=abc") || !strings.Contains(u, "appsecret_proof=") {
		t.Fatalf("next = %s: want the token dropped, the cursor kept, the proof added", u)
	}
	for _, bad := range []string{"https://evil.example/v26.0/1/feed?after=x", "http://graph.example/v26.0/1/feed", "/v26.0/1/feed", "::"} {
		if _, err := g.checkNext(bad); err == nil {
			t.Errorf("next %q accepted: the token would go elsewhere", bad)
		}
	}
	proof := g.proof
	if s := g.red.Scrub("token EAAsecret and proof " + proof); proof == "" || strings.Contains(s, "EAAsecret") || strings.Contains(s, proof) {
		t.Fatalf("scrub left a secret: %s", s)
	}
}

func TestGraphTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{`"2026-11-20T10:15:30+0000"`, time.Date(2026, 11, 20, 10, 15, 30, 0, time.UTC), true},
		{`"2026-11-20T12:15:30+0200"`, time.Date(2026, 11, 20, 10, 15, 30, 0, time.UTC), true},
		{`"2026-11-20T10:15:30Z"`, time.Date(2026, 11, 20, 10, 15, 30, 0, time.UTC), true},
		{`1795169730`, time.Unix(1795169730, 0).UTC(), true},
		{`null`, time.Time{}, true},
		{`"yesterday"`, time.Time{}, false},
		{`-1`, time.Time{}, false},
		{`{}`, time.Time{}, false},
	}
	for _, tt := range tests {
		var g graphTime
		err := g.UnmarshalJSON([]byte(tt.in))
		if (err == nil) != tt.ok || !g.Equal(tt.want) {
			t.Errorf("graphTime(%s) = %v, %v; want %v ok=%v", tt.in, g.Time, err, tt.want, tt.ok)
		}
	}
}
