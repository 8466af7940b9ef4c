package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	p := Policy{Min: time.Second, Max: 10 * time.Second}
	low := func(int64) int64 { return 0 }
	high := func(k int64) int64 { return k - 1 }
	tests := []struct {
		n      int
		lo, hi time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{5, 5 * time.Second, 10 * time.Second},
		{500, 5 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := p.delay(tt.n, low); got != tt.lo {
			t.Errorf("delay(%d) lowest = %v, want %v", tt.n, got, tt.lo)
		}
		if got := p.delay(tt.n, high); got != tt.hi {
			t.Errorf("delay(%d) highest = %v, want %v", tt.n, got, tt.hi)
		}
		if got := p.Ceiling(tt.n); got != tt.hi {
			t.Errorf("Ceiling(%d) = %v, want %v", tt.n, got, tt.hi)
		}
		for range 50 {
			if got := p.Delay(tt.n); got < tt.lo || got > tt.hi {
				t.Fatalf("Delay(%d) = %v, not in [%v, %v]", tt.n, got, tt.lo, tt.hi)
			}
		}
	}
	// Degenerate policies never panic.
	for _, p := range []Policy{{}, {Min: 1}, {Min: time.Second}, {Max: time.Second}, {Min: -time.Second, Max: time.Second}} {
		if d := p.Delay(3); d < 0 || d > max(p.Max, 0) {
			t.Errorf("%+v: Delay(3) = %v", p, d)
		}
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on an ended context = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Sleep on an ended context took %v", d)
	}
	if err := Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(0) on an ended context = %v", err)
	}
}
