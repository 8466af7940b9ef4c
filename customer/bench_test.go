package customer

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

// benchCustomers is the number of active customers the benchmarks run
// against (the target: 10,000).
const benchCustomers = 10000

// benchEnvelope is customer i's message on one of three channels; the
// email carries a phone number in its signature (two keys).
func benchEnvelope(i, channel int, seq int64, at time.Time) *message.Envelope {
	name := letters(i) + " " + letters(i/7+1000)
	e := &message.Envelope{Version: 1, Kind: message.KindComment, CreatedAt: at, ReceivedAt: at,
		Text: "Laskussani on kaksi kertaa sama tilaus, kenelle voin soittaa? Toivoisin nopeaa vastausta."}
	switch channel {
	case 0:
		e.Channel = "facebook"
		e.Author = message.Author{ID: strconv.Itoa(7_000_000 + i), Name: name}
		e.Metadata = map[string]string{"page_id": "104"}
	case 1:
		e.Channel = "x"
		e.Author = message.Author{ID: strconv.Itoa(9_000_000 + i), Handle: "asiakas" + strconv.Itoa(i), Name: name}
	default:
		e.Channel = "email"
		addr := "asiakas" + strconv.Itoa(i) + "@example.fi"
		e.Author = message.Author{ID: addr, Email: addr, Name: name}
		e.Metadata = map[string]string{"signature": fmt.Sprintf("%s\npuh. 040 %07d", name, i)}
	}
	e.SourceID = strconv.FormatInt(seq, 10)
	e.ID = message.MakeID(e.Channel, e.SourceID)
	return e
}

// letters spells n in letters, so that every customer has a name of its
// own (names are compared without digits).
func letters(n int) string {
	b := []byte{'A'}
	for ; n > 0; n /= 26 {
		b = append(b, byte('a'+n%26))
	}
	return string(b) + "nen"
}

// settle waits until the server has every recent item written and the
// store's watch has delivered every change, so that one measurement does
// not pay for the backlog of the setup or of the previous one.
func settle(b *testing.B, s *Store) {
	b.Helper()
	ctx := context.Background()
	if s.pub != nil {
		<-s.pub.PublishAsyncComplete()
	}
	testwait.NoError(b, 5*time.Minute, "the watch to catch up", func() error {
		info, err := s.stream.Info(ctx)
		if err != nil {
			return err
		}
		if seen := s.v.seen.Load(); seen < info.State.LastSeq {
			return fmt.Errorf("watch at %d of %d", seen, info.State.LastSeq)
		}
		return nil
	})
}

// BenchmarkObserve measures Observe, the per-message lookup and link, on
// embedded NATS with benchCustomers customers of three keys each (a
// Facebook id, an X id and handle, an email address and phone linked by
// a signature). docs/BENCHMARKS.md has numbers.
//
//	go test ./customer/ -run '^$' -bench Observe -benchmem -benchtime 20000x
func BenchmarkObserve(b *testing.B) {
	ctx := context.Background()
	outer := b
	setup := func(b *testing.B, cfg Config) (*Store, *atomic.Int64) {
		b.Helper()
		start := time.Now()
		defer func() { b.Logf("%d customers stored in %s", benchCustomers, time.Since(start).Round(time.Millisecond)) }()
		// The store lives as long as the whole benchmark, not one round.
		s, err := Open(ctx, bustest.Open(outer, nil).JS, cfg)
		if err != nil {
			b.Fatal(err)
		}
		var seq atomic.Int64
		for i := range benchCustomers {
			for ch := range 3 {
				e := benchEnvelope(i, ch, seq.Add(1), t0)
				if ch == 2 { // link the address to the Facebook id, as ops would
					e.Text += " Kirjoitin myös Facebookissa."
				}
				if _, err := s.Observe(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		}
		settle(b, s)
		return s, &seq
	}
	cases := []struct {
		name string
		cfg  func(*Config)
		// env returns the message of iteration n.
		env func(n int, seq *atomic.Int64) *message.Envelope
		par bool
	}{
		// The baselines: one KV round trip on the same bucket, to read the
		// others in (a read of a key record, a rewrite of it).
		{name: "baseline/kv-get"},
		{name: "baseline/kv-put"},
		{name: "known/one-key", env: func(n int, seq *atomic.Int64) *message.Envelope {
			return benchEnvelope(n%benchCustomers, 0, seq.Add(1), t0)
		}},
		{name: "known/two-keys", env: func(n int, seq *atomic.Int64) *message.Envelope {
			return benchEnvelope(n%benchCustomers, 2, seq.Add(1), t0)
		}},
		{name: "known/no-recent-items", cfg: func(c *Config) { c.RecentItems = -1 }, env: func(n int, seq *atomic.Int64) *message.Envelope {
			return benchEnvelope(n%benchCustomers, 0, seq.Add(1), t0)
		}},
		{name: "known/parallel", par: true, env: func(n int, seq *atomic.Int64) *message.Envelope {
			return benchEnvelope(n%benchCustomers, n%3, seq.Add(1), t0)
		}},
		{name: "known/cold-cache", cfg: func(c *Config) { c.CacheEntries = 1000 }, env: func(n int, seq *atomic.Int64) *message.Envelope {
			return benchEnvelope((n*7919)%benchCustomers, 0, seq.Add(1), t0)
		}},
		{name: "new-order-number", env: func(n int, seq *atomic.Int64) *message.Envelope {
			e := benchEnvelope(n%benchCustomers, 0, seq.Add(1), t0)
			e.Text = "Tilaus " + strconv.Itoa(1_100_000+n%100_000) + " ei tullut"
			return e
		}},
		{name: "new-order-number/no-recent-items", cfg: func(c *Config) { c.RecentItems = -1 }, env: func(n int, seq *atomic.Int64) *message.Envelope {
			e := benchEnvelope(n%benchCustomers, 0, seq.Add(1), t0)
			e.Text = "Tilaus " + strconv.Itoa(1_100_000+n%100_000) + " ei tullut"
			return e
		}},
		{name: "new-customer", env: func(n int, seq *atomic.Int64) *message.Envelope {
			return benchEnvelope(benchCustomers+n, 0, seq.Add(1), t0)
		}},
	}
	// Cases with the default configuration share one store (they run in
	// order, the ones that add keys last); the others get their own.
	type stored struct {
		s   *Store
		seq *atomic.Int64
	}
	var shared *stored
	for _, c := range cases {
		var own *stored
		b.Run(c.name, func(b *testing.B) {
			slot := &own
			if c.cfg == nil {
				slot = &shared
			}
			if *slot == nil { // once, not per round of b.N
				cfg := testConfig()
				cfg.MaxBytes = 256 << 20
				if c.cfg != nil {
					c.cfg(&cfg)
				}
				s, seq := setup(b, cfg)
				*slot = &stored{s, seq}
			}
			s, seq := (*slot).s, (*slot).seq
			before := s.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			if c.env == nil {
				kk := prefixKey + keyHash("fb:7000000")
				e, err := s.kv.Get(ctx, kk)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for b.Loop() {
					if c.name == "baseline/kv-put" {
						// A new key each time, like a claim: no history to replace.
						_, err = s.kv.Put(ctx, "bench."+strconv.Itoa(n), e.Value())
					} else {
						_, err = s.kv.Get(ctx, kk)
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				b.StopTimer()
				settle(b, s)
				return
			}
			if c.par {
				var n atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.Observe(ctx, c.env(int(n.Add(1)), seq)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			} else {
				n := 0
				for b.Loop() {
					if _, err := s.Observe(ctx, c.env(n, seq)); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.StopTimer()
			settle(b, s)
			st := s.Stats()
			hits, misses := st.CacheHits-before.CacheHits, st.CacheMisses-before.CacheMisses
			b.ReportMetric(float64(misses)/float64(max(hits+misses, 1)), "miss-ratio")
			b.ReportMetric(float64(st.Conflicts-before.Conflicts)/float64(b.N), "conflicts/op")
		})
		if own != nil {
			_ = own.s.Close(ctx)
		}
	}
}
