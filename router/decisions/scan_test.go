package decisions

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestScan(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	count := func(since time.Time) (n int, ids map[string]int) {
		ids = map[string]int{}
		if err := s.Scan(ctx, since, func(r *Record) error { n++; ids[r.ID]++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n, ids
	}
	if n, _ := count(time.Time{}); n != 0 {
		t.Fatalf("empty store: %d records", n)
	}
	for i := range 30 {
		put(t, s, fmt.Sprintf("web:%d", i), func(r *Record) { r.Outcome = OutcomeRouted })
	}
	mid := time.Now()
	// Changing a record after mid moves it after mid; it is seen once.
	put(t, s, "web:3", func(r *Record) {
		r.Response = &Response{ID: "web:r", Status: "responded", At: time.Now()}
	})
	if n, ids := count(time.Time{}); n != 30 || ids["web:3"] != 1 {
		t.Fatalf("all: %d records, web:3 seen %d times", n, ids["web:3"])
	}
	if n, ids := count(mid); n != 1 || ids["web:3"] != 1 {
		t.Fatalf("since mid: %d records %v, want only web:3", n, ids)
	}
	if n, _ := count(time.Now().Add(time.Hour)); n != 0 {
		t.Fatalf("since the future: %d records", n)
	}
	stop := errors.New("stop")
	if err := s.Scan(ctx, time.Time{}, func(*Record) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Scan returned %v, want fn's error", err)
	}
	got, err := s.Get(ctx, "web:3")
	if err != nil || got.Response == nil || got.Response.ID != "web:r" {
		t.Fatalf("response not kept in the record: %+v %v", got, err)
	}
}

func TestOnChange(t *testing.T) {
	s := openStore(t)
	var seen []string
	cancel := s.OnChange(func(r *Record) { seen = append(seen, r.ID+":"+r.Outcome) })
	put(t, s, "web:1", func(r *Record) { r.Outcome = OutcomeRouted })
	put(t, s, "web:1", func(r *Record) { r.Outcome = OutcomeDead })
	if _, err := s.Update(context.Background(), "web:1", func(*Record) (*Record, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	cancel()
	put(t, s, "web:2", func(r *Record) { r.Outcome = OutcomeRouted })
	if got := fmt.Sprint(seen); got != "[web:1:routed web:1:dead]" {
		t.Fatalf("observed %s", got)
	}
}
