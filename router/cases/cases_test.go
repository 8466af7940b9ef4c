package cases

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/router/conversation"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	b := bustest.Open(t, nil)
	s, err := Open(context.Background(), b.JS, Config{Bucket: "test_cases", Window: 2 * time.Hour, TTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCaseLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	const cust = "c0123"

	if open, err := s.Open(ctx, cust, t0); err != nil || len(open) != 0 {
		t.Fatalf("a new customer has open cases %v (%v)", open, err)
	}
	billing, err := s.Add(ctx, cust, "billing", "x:1", nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	// The same team within the window joins the case, even without asking.
	if id, _ := s.Add(ctx, cust, "billing", "email:a@b", nil, t0.Add(time.Hour)); id != billing {
		t.Fatalf("second billing item opened %s, want it to join %s", id, billing)
	}
	// A redelivery of an item changes nothing.
	if id, _ := s.Add(ctx, cust, "logistics", "x:1", nil, t0.Add(time.Hour)); id != billing {
		t.Fatalf("re-adding an item moved it to %s", id)
	}
	logistics, err := s.Add(ctx, cust, "logistics", "x:2", nil, t0.Add(90*time.Minute))
	if err != nil || logistics == billing {
		t.Fatalf("another team's item: case %s (%v), want a new case", logistics, err)
	}
	open, err := s.Open(ctx, cust, t0.Add(100*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []conversation.Case{{ID: logistics, Team: "logistics"}, {ID: billing, Team: "billing"}}
	if fmt.Sprint(open) != fmt.Sprint(want) {
		t.Fatalf("open cases %v, want %v (most recently active first)", open, want)
	}
	// An explicit join wins over the team (a reply that follows its parent).
	if id, _ := s.Add(ctx, cust, "logistics", "x:3", &conversation.Case{ID: billing, Team: "billing"}, t0.Add(110*time.Minute)); id != billing {
		t.Fatalf("explicit join went to %s, want %s", id, billing)
	}
	// A response closes a case; a quiet window closes the other.
	if err := s.Close(ctx, cust, billing, "page", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	open, _ = s.Open(ctx, cust, t0.Add(2*time.Hour))
	if len(open) != 1 || open[0].ID != logistics {
		t.Fatalf("after closing billing, open cases %v", open)
	}
	if open, _ = s.Open(ctx, cust, t0.Add(90*time.Minute+2*time.Hour+time.Second)); len(open) != 0 {
		t.Fatalf("cases still open after the quiet window: %v", open)
	}
	list, err := s.List(ctx, cust)
	if err != nil || len(list) != 2 {
		t.Fatalf("List: %v %v", list, err)
	}
	for _, c := range list {
		if c.ID == billing && (c.ItemCount != 3 || c.ClosedBy != "page" || len(c.Items) != 3) {
			t.Fatalf("billing case %+v", c)
		}
	}
	gone, err := s.Forget(ctx, cust)
	if err != nil || len(gone) != 2 {
		t.Fatalf("Forget: %v %v", gone, err)
	}
	if list, _ := s.List(ctx, cust); len(list) != 0 {
		t.Fatalf("cases left after Forget: %v", list)
	}
}

// Two workers adding items of one customer for one team at once end in
// one case holding both.
func TestConcurrentAddsShareOneCase(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Now()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := s.Add(ctx, "c9", "billing", fmt.Sprintf("web:%d", i), nil, now)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("concurrent adds opened several cases: %v", ids)
		}
	}
	list, _ := s.List(ctx, "c9")
	if len(list) != 1 || list[0].ItemCount != len(ids) {
		t.Fatalf("cases %+v, want one with %d items", list, len(ids))
	}
}

func TestBounds(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Now()
	for i := range maxItemsPerCase + 10 {
		if _, err := s.Add(ctx, "c1", "billing", fmt.Sprintf("web:%d", i), nil, now); err != nil {
			t.Fatal(err)
		}
	}
	for i := range maxCases + 5 {
		if _, err := s.Add(ctx, "c1", fmt.Sprintf("team%d", i), fmt.Sprintf("web:t%d", i), nil, now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := s.List(ctx, "c1")
	if len(list) != maxCases {
		t.Fatalf("%d cases kept, want %d", len(list), maxCases)
	}
	for _, c := range list {
		if len(c.Items) > maxItemsPerCase {
			t.Fatalf("case with %d items", len(c.Items))
		}
	}
}

func TestConfig(t *testing.T) {
	b := bustest.Open(t, nil)
	for _, c := range []Config{{}, {Bucket: "b", Window: time.Hour}, {Bucket: "b", Window: time.Hour, TTL: time.Minute}} {
		if _, err := Open(context.Background(), b.JS, c); err == nil {
			t.Errorf("Open(%+v) accepted a bad config", c)
		}
	}
}

// When two customers turn out to be one, the cases follow; open cases of
// one team become one.
func TestMove(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Now()
	a, _ := s.Add(ctx, "old", "billing", "x:1", nil, now)
	_, _ = s.Add(ctx, "old", "sales", "x:2", nil, now)
	b, _ := s.Add(ctx, "new", "billing", "email:1", nil, now.Add(time.Minute))
	if err := s.Move(ctx, "old", "new", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(ctx, "old"); len(list) != 0 {
		t.Fatalf("moved customer still has cases %v", list)
	}
	list, _ := s.List(ctx, "new")
	if len(list) != 2 {
		t.Fatalf("cases after the move: %+v, want billing (merged) and sales", list)
	}
	for _, c := range list {
		if c.Team == "billing" && (c.ID != b || c.ItemCount != 2) {
			t.Fatalf("billing case %+v, want %s (not %s) holding both items", c, b, a)
		}
	}
	if err := s.Move(ctx, "nobody", "new", now); err != nil {
		t.Fatal(err)
	}
}
