package decisions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bustest"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	b := bustest.Open(t, nil)
	s, err := Open(context.Background(), b.JS, Config{Stream: "TEST_DECISIONS", Subjects: "test.decision", MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s *Store, id string, fill func(*Record)) *Record {
	t.Helper()
	rec, err := s.Update(context.Background(), id, func(r *Record) (*Record, error) {
		if r == nil {
			r = &Record{}
		}
		fill(r)
		return r, nil
	})
	if err != nil {
		t.Fatalf("storing %s: %v", id, err)
	}
	return rec
}

func TestGetUpdateDelete(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.Get(ctx, "web:nothing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing record: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"no-colon", " eb:U", "x.>:1", "A:1", ":1"} {
		if _, err := s.Get(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get of malformed id %q: %v, want ErrNotFound", bad, err)
		}
	}
	put(t, s, "web:1", func(r *Record) {
		r.Teams, r.Outcome, r.Reason = []string{"billing"}, OutcomeRouted, ReasonText
		r.AddEvent(Event{Kind: EventRouted, Teams: r.Teams})
	})
	put(t, s, "web:1", func(r *Record) {
		r.Teams = []string{"logistics"}
		r.AddEvent(Event{Kind: EventReroute, Teams: r.Teams, By: "ops"})
	})
	got, err := s.Get(ctx, "web:1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Channel != "web" || got.V != RecordVersion || len(got.History) != 2 || got.Teams[0] != "logistics" {
		t.Fatalf("record after two updates: %+v", got)
	}
	ok, err := s.Delete(ctx, "web:1")
	if err != nil || !ok {
		t.Fatalf("Delete: %v %v", ok, err)
	}
	if _, err := s.Get(ctx, "web:1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if ok, err := s.Delete(ctx, "web:1"); err != nil || ok {
		t.Fatalf("second Delete: %v %v, want false nil", ok, err)
	}
}

// Concurrent writers of one record lose no change.
func TestConcurrentUpdates(t *testing.T) {
	s := openStore(t)
	const writers = 6
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := s.Update(context.Background(), "x:42", func(r *Record) (*Record, error) {
				if r == nil {
					r = &Record{}
				}
				r.AddEvent(Event{Kind: EventRetry, Detail: fmt.Sprint(i)})
				return r, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(context.Background(), "x:42")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != writers {
		t.Fatalf("history has %d events, want %d (a concurrent change was lost)", len(got.History), writers)
	}
}

func TestSearchPagesNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := range 25 {
		team := "billing"
		if i%2 == 1 {
			team = "logistics"
		}
		put(t, s, fmt.Sprintf("email:%02d", i), func(r *Record) {
			r.Teams, r.Outcome = []string{team}, OutcomeRouted
			r.ReceivedAt = base.Add(time.Duration(i) * time.Minute)
			r.Snippet = Snippet("", fmt.Sprintf("message number %d about the invoice", i))
			if i%5 == 0 {
				r.ThreadID = "t5"
				r.Customer = &Customer{ID: "c5"}
			}
		})
	}
	// Changing an old record moves it to the front.
	put(t, s, "email:00", func(r *Record) { r.AddEvent(Event{Kind: EventResponse}) })

	var ids []string
	q := Query{Team: "billing", Limit: 5}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		p, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		if p.Next == 0 {
			break
		}
		q.Before = p.Next
	}
	want := "email:00 email:24 email:22 email:20 email:18 email:16 email:14 email:12 email:10 email:08 email:06 email:04 email:02"
	if got := strings.Join(ids, " "); got != want {
		t.Fatalf("billing, paged by 5:\n got %s\nwant %s", got, want)
	}

	tests := []struct {
		name string
		q    Query
		want int
	}{
		{"text ignores case", Query{Text: "NUMBER 7 "}, 1},
		{"channel", Query{Channel: "web"}, 0},
		{"until", Query{Until: base.Add(4 * time.Minute)}, 5},
		{"since", Query{Since: base.Add(20 * time.Minute)}, 5},
		{"outcome", Query{Outcome: OutcomeNoise}, 0},
		{"thread", Query{Thread: "t5"}, 5},
		{"customer", Query{Customer: "c5", Team: "billing"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 100
			p, err := s.Search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Records) != tt.want {
				t.Fatalf("%d records, want %d", len(p.Records), tt.want)
			}
		})
	}
}

func TestAttach(t *testing.T) {
	ctx := context.Background()
	b := bustest.Open(t, nil)
	c := Config{Stream: "TEST_DECISIONS", Subjects: "test.decision", MaxAge: time.Hour}
	if _, err := Attach(ctx, b.JS, c); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("Attach before any daemon created the stream: %v", err)
	}
	s, err := Open(ctx, b.JS, c)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "web:1", func(r *Record) { r.Teams = []string{"billing"} })
	a, err := Attach(ctx, b.JS, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(ctx, "web:1"); err != nil || got.Teams[0] != "billing" {
		t.Fatalf("Get through an attached store: %+v %v", got, err)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	var r Record
	for i := range 3 * maxHistory {
		r.AddEvent(Event{Detail: fmt.Sprint(i)})
	}
	if len(r.History) != maxHistory {
		t.Fatalf("history has %d events, want %d", len(r.History), maxHistory)
	}
	if r.History[0].Detail != "0" || r.History[maxHistory-1].Detail != fmt.Sprint(3*maxHistory-1) {
		t.Fatalf("history keeps %s … %s, want the first and the latest", r.History[0].Detail, r.History[maxHistory-1].Detail)
	}
}

func TestSetDelivery(t *testing.T) {
	var r Record
	r.SetDelivery(Delivery{Team: "a", Target: "nats", Error: "down", Attempts: 1})
	r.SetDelivery(Delivery{Team: "a", Target: "nats", OK: true, Attempts: 1})
	r.SetDelivery(Delivery{Team: "b", Target: "nats", OK: true, Attempts: 1})
	if len(r.Delivery) != 2 || !r.Delivery[0].OK || r.Delivery[0].Attempts != 2 || r.Delivery[0].Error != "" {
		t.Fatalf("deliveries: %+v", r.Delivery)
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct{ subject, text, want string }{
		{"", "hello\n\n  world\t!", "hello world !"},
		{"Lasku", "on väärin", "Lasku — on väärin"},
		{"", "a\x1b[31mred\x00", "a[31mred"},
		{"", strings.Repeat("ä", 200), strings.Repeat("ä", maxSnippet/2)},
	}
	for _, tt := range tests {
		if got := Snippet(tt.subject, tt.text); got != tt.want {
			t.Errorf("Snippet(%q, %q) = %q, want %q", tt.subject, tt.text, got, tt.want)
		}
	}
}

func FuzzSnippet(f *testing.F) {
	f.Add("subject", "text\nwith\x00controls")
	f.Fuzz(func(t *testing.T, subject, text string) {
		s := Snippet(subject, text)
		if len(s) > maxSnippet {
			t.Fatalf("snippet of %d bytes", len(s))
		}
		if strings.ContainsAny(s, "\n\r\t\x00") {
			t.Fatalf("snippet %q has control characters", s)
		}
	})
}
