package facebook

import (
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
