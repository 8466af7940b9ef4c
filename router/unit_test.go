package router

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router/targets"
)

func TestBreaker(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms        int
		op        string // "allow", "ok", "fail"
		wantAllow bool
		wantOpen  bool // after ok/fail
		wantWait  time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"stays closed below the threshold", []step{
			{0, "fail", false, false, 0}, {1, "fail", false, false, 0}, {2, "allow", true, false, 0},
			{3, "ok", false, false, 0}, {4, "fail", false, false, 0}, {5, "fail", false, false, 0}, {6, "allow", true, false, 0},
		}},
		{"opens, fails fast, probes once, closes", []step{
			{0, "fail", false, false, 0}, {0, "fail", false, false, 0}, {0, "fail", false, true, 0},
			{10, "allow", false, false, 90 * time.Millisecond},
			{100, "allow", true, false, 0},                       // the probe
			{101, "allow", false, false, 100 * time.Millisecond}, // others wait while it runs
			{150, "ok", false, false, 0},
			{151, "allow", true, false, 0},
		}},
		{"a failed probe reopens", []step{
			{0, "fail", false, false, 0}, {0, "fail", false, false, 0}, {0, "fail", false, true, 0},
			{100, "allow", true, false, 0}, {120, "fail", false, true, 0},
			{150, "allow", false, false, 70 * time.Millisecond}, {220, "allow", true, false, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBreaker(3, 100*time.Millisecond)
			for i, s := range tt.steps {
				switch s.op {
				case "allow":
					ok, wait := b.allow(at(s.ms))
					if ok != s.wantAllow || wait != s.wantWait {
						t.Fatalf("step %d: allow = %v, %s; want %v, %s", i, ok, wait, s.wantAllow, s.wantWait)
					}
				default:
					open, _ := b.done(at(s.ms), s.op == "ok")
					if open != s.wantOpen {
						t.Fatalf("step %d: open = %v, want %v", i, open, s.wantOpen)
					}
				}
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	r := New(Config{RetryMin: 100 * time.Millisecond, RetryMax: time.Second}, Deps{})
	tests := []struct {
		delivered uint64
		hint      time.Duration
		min, max  time.Duration
	}{
		{1, 0, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 0, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 0, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 0, 500 * time.Millisecond, time.Second},
		{50, 0, 500 * time.Millisecond, time.Second},
		{1, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}, // a Retry-After is honoured
		{1, time.Hour, time.Second, time.Second},                                    // up to RetryMax
	}
	for _, tt := range tests {
		for range 20 {
			if d := r.retryDelay(tt.delivered, tt.hint); d < tt.min || d > tt.max {
				t.Fatalf("delivery %d hint %s: delay %s not in [%s, %s]", tt.delivered, tt.hint, d, tt.min, tt.max)
			}
		}
	}
}

func TestTeamResult(t *testing.T) {
	var r teamResult
	r.failed("webhook:a", targets.WithRetryAfter(errors.New("busy"), 3*time.Second))
	r.failed("redis:q", errors.New("down"))
	if r.permanent || r.hint != 3*time.Second || r.targetNames() != "webhook:a,redis:q" {
		t.Fatalf("%+v %q", r, r.targetNames())
	}
	r.failed("", targets.Permanentf("refused"))
	if !r.permanent || r.err() == nil {
		t.Fatalf("%+v", r)
	}
}

func TestProgressRecord(t *testing.T) {
	var p progressRecord
	p.markDone("a", "nats")
	p.markDone("a", "nats")
	p.markDone("a", "webhook:1")
	p.close("b", ReasonRejected)
	if !p.done("a", "nats") || p.done("b", "nats") || len(p.Done["a"]) != 2 || p.Closed["b"] != ReasonRejected {
		t.Fatalf("%+v", p)
	}
	if progressKey("web:1", 5) == progressKey("web:1", 6) || progressKey("web:1", 5) == progressKey("web:2", 5) {
		t.Fatal("progress keys collide")
	}
	if k := threadKey("email", "<a@b> weird / chars"); len(k) != 2+32 {
		t.Fatalf("thread key %q", k)
	}
	if threadKey("web", "T1") == threadKey("email", "T1") {
		t.Fatal("thread keys ignore the channel")
	}
}

func FuzzDecodeDead(f *testing.F) {
	good, _ := json.Marshal(DeadLetter{Reason: ReasonRejected, Team: "a", Envelope: json.RawMessage(`{"id":"web:1"}`)})
	f.Add(good)
	f.Add([]byte(`{"reason":1}`))
	f.Add([]byte("\xff\x00"))
	f.Add([]byte(`{"envelope":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := decodeDead(7, time.Unix(1, 0), data)
		if e.Seq != 7 {
			t.Fatal("seq lost")
		}
		_ = e.EnvelopeID()
		if e.Error == "" && e.Reason == "" && len(e.original()) == 0 && json.Valid(data) {
			return
		}
		// Whatever it held, an undecodable body is kept whole.
		var dl DeadLetter
		if json.Unmarshal(data, &dl) != nil && string(e.RawBytes) != string(data) {
			t.Fatal("undecodable dead letter not kept")
		}
	})
}
