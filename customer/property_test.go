package customer

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

// The property: the same messages in any order — one after another, or by
// several workers at once — give the same customers (the same partition
// of keys) with the same ids, and those are what refModel, a direct
// computation over the whole set of messages, says.

// person is a generated customer.
type person struct {
	name                   string
	fb, x, handle          string
	email, phone, orderNum string
}

// genMessages builds n messages of a few people. Some share a display
// name; all of them may quote the office switchboard number (which must
// become shared); some refer to other channels.
func genMessages(r *rand.Rand, n int) []*message.Envelope {
	names := []string{"Matti Meikäläinen", "Maija Virtanen", "Matti Meikäläinen", "Anna-Liisa Korhonen", "Maija Virtanen", "Pekka Nieminen"}
	var people []person
	for i, nm := range names {
		people = append(people, person{
			name: nm, fb: fmt.Sprint(7000 + i), x: fmt.Sprint(900 + i), handle: fmt.Sprintf("user_%d", i),
			email: fmt.Sprintf("p%d@example.fi", i), phone: fmt.Sprintf("040 %03d %04d", 100+i, 1000+i),
			orderNum: fmt.Sprint(1100000 + i),
		})
	}
	refs := map[string][]string{
		"email":    {"Kirjoitin teille myös facebookissa", "I also tweeted about this", "Laitoin YV:tä"},
		"facebook": {"Laitoin teille sähköpostia", "I emailed you yesterday", "Skickade ett mejl"},
		"x":        {"Laitoin sähköpostia eilen", "As I wrote on Facebook", "Täytin lomakkeen"},
		"web":      {"Lähetin meilin", "Kirjoitin X:ssä"},
	}
	channels := []string{"facebook", "x", "email", "web"}
	var out []*message.Envelope
	for i := range n {
		p := people[r.IntN(len(people))]
		ch := channels[r.IntN(len(channels))]
		at := t0.Add(time.Duration(r.IntN(96)) * time.Hour)
		var text []string
		text = append(text, "Hei.")
		if r.IntN(3) == 0 {
			text = append(text, "Tilaus "+p.orderNum+".")
		}
		if r.IntN(4) == 0 {
			text = append(text, "Soittakaa "+p.phone+".")
		}
		if r.IntN(5) == 0 && ch != "email" {
			text = append(text, "Osoitteeni "+p.email+".")
		}
		if r.IntN(6) == 0 {
			text = append(text, "Vaihde 09 555 0100.") // everybody's office
		}
		if r.IntN(3) == 0 {
			text = append(text, refs[ch][r.IntN(len(refs[ch]))]+".")
		}
		e := &message.Envelope{Version: 1, Channel: ch, Kind: message.KindComment, SourceID: fmt.Sprint(i),
			Text: strings.Join(text, " "), CreatedAt: at, ReceivedAt: at}
		e.ID = message.MakeID(ch, e.SourceID)
		switch ch {
		case "facebook":
			e.Author = message.Author{ID: p.fb, Name: p.name}
		case "x":
			e.Author = message.Author{ID: p.x, Handle: p.handle, Name: p.name}
		case "email":
			e.Author = message.Author{ID: p.email, Email: p.email, Name: p.name}
		case "web":
			e.Author = message.Author{Email: p.email, Name: p.name}
			if r.IntN(2) == 0 {
				e.Author.ID = "v-" + p.fb
			}
		}
		out = append(out, e)
	}
	return out
}

// partition maps each customer id to its keys, sorted.
type partition map[string][]string

func (p partition) String() string {
	ids := slices.Sorted(maps.Keys(p))
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%s %v\n", id, p[id])
	}
	return b.String()
}

// refModel computes the customers of msgs directly: a key is shared when
// it was seen with more than maxPeers person keys; the other keys of a
// message are one customer; a reference joins its author to the only
// other author of the same name on a referred channel within the window
// (unless either is shared); the id derives from the key with the
// earliest message, ties to the smaller key.
func refModel(x *identity.Extractor, msgs []*message.Envelope, maxPeers int, window time.Duration) partition {
	peers := map[identity.Key]map[identity.Key]bool{}
	first := map[identity.Key]time.Time{}
	keysOf := make([][]identity.Key, len(msgs))
	for i, e := range msgs {
		ks := x.Keys(e).All()
		keysOf[i] = ks
		for _, k := range ks {
			if peers[k] == nil {
				peers[k] = map[identity.Key]bool{}
			}
			for _, p := range ks {
				if p != k && p.Person() {
					peers[k][p] = true
				}
			}
		}
	}
	hub := func(k identity.Key) bool { return len(peers[k]) > maxPeers }
	parent := map[identity.Key]identity.Key{}
	var find func(identity.Key) identity.Key
	find = func(k identity.Key) identity.Key {
		if parent[k] != k {
			parent[k] = find(parent[k])
		}
		return parent[k]
	}
	union := func(a, b identity.Key) { parent[find(a)] = find(b) }
	for i, e := range msgs {
		var prev identity.Key
		for _, k := range keysOf[i] {
			if hub(k) {
				continue
			}
			if _, ok := parent[k]; !ok {
				parent[k] = k
			}
			if t, ok := first[k]; !ok || e.CreatedAt.Before(t) {
				first[k] = e.CreatedAt
			}
			if prev != "" {
				union(prev, k)
			}
			prev = k
		}
	}
	// Probable links.
	type sight struct {
		name, ch string
		key      identity.Key
		b        int64
	}
	bucket := func(t time.Time) int64 { return t.UnixNano() / int64(window/4) }
	var sights []sight
	type ref struct {
		sight
		to identity.Channels
	}
	var refs []ref
	for _, e := range msgs {
		ks := x.Keys(e)
		if ks.Name == "" || len(ks.Author) == 0 {
			continue
		}
		s := sight{ks.Name, e.Channel, ks.Author[0], bucket(e.CreatedAt)}
		sights = append(sights, s)
		if ks.Refers != 0 {
			refs = append(refs, ref{s, ks.Refers})
		}
	}
	for _, r := range refs {
		cands := map[identity.Key]bool{}
		for _, s := range sights {
			if s.name == r.name && s.key != r.key && s.ch != r.ch && identity.ChannelRef(s.ch)&r.to != 0 &&
				s.b-r.b <= 4 && r.b-s.b <= 4 {
				cands[s.key] = true
			}
		}
		if len(cands) != 1 {
			continue
		}
		for c := range cands {
			if !hub(c) && !hub(r.key) {
				union(r.key, c)
			}
		}
	}
	groups := map[identity.Key][]identity.Key{}
	for k := range parent {
		root := find(k)
		groups[root] = append(groups[root], k)
	}
	out := partition{}
	for _, g := range groups {
		earliest := g[0]
		var keys []string
		for _, k := range g {
			keys = append(keys, string(k))
			if first[k].Before(first[earliest]) || first[k].Equal(first[earliest]) && k < earliest {
				earliest = k
			}
		}
		slices.Sort(keys)
		out[customerID(string(earliest))] = keys
	}
	return out
}

// storePartition reads the customers of keys back from the store.
func storePartition(t testing.TB, s *Store, keys []identity.Key) partition {
	t.Helper()
	out := partition{}
	for _, k := range keys {
		r, _, err := s.customerOf(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			continue
		}
		if !slices.Contains(out[r.id()], string(k)) {
			out[r.id()] = append(out[r.id()], string(k))
		}
	}
	for id := range out {
		slices.Sort(out[id])
	}
	return out
}

// processes says how a property run spreads the messages: over how many
// stores (each on its own connection, like separate router processes)
// with how many workers each.
type processes struct{ stores, workers int }

func TestLinkingIsOrderIndependent(t *testing.T) {
	busCfg := bustest.Config(t)
	b := bustest.Open(t, busCfg)
	ctx := context.Background()
	const maxPeers = 4
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	runs := []processes{{1, 1}, {1, 1}, {1, 4}, {2, 2}}
	run := 0
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		msgs := genMessages(r, 40)
		cfg := testConfig()
		cfg.MaxPeers = maxPeers
		x, err := identity.New(cfg.Identity)
		if err != nil {
			t.Fatal(err)
		}
		keySet := map[identity.Key]bool{}
		for _, e := range msgs {
			for _, k := range x.Keys(e).All() {
				keySet[k] = true
			}
		}
		keys := slices.Sorted(maps.Keys(keySet))
		want := refModel(x, msgs, maxPeers, DefaultProbableWindow)

		for _, p := range runs {
			run++
			cfg.Bucket = fmt.Sprintf("prop%d", run)
			var stores []*Store
			for i := range p.stores {
				js := b.JS
				if i > 0 {
					// Another process: its own authenticated connection.
					_, js = bustest.Dial(t, busCfg, b, "second store")
				}
				s, err := Open(ctx, js, cfg)
				if err != nil {
					t.Fatal(err)
				}
				s.v.maxStale = 2 * time.Second
				stores = append(stores, s)
			}
			order := slices.Clone(msgs)
			r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			work := make(chan *message.Envelope)
			var wg sync.WaitGroup
			errs := make(chan error, len(order))
			for _, s := range stores {
				for range p.workers {
					wg.Go(func() {
						for e := range work {
							if _, err := s.Observe(ctx, e); err != nil {
								errs <- err
							}
						}
					})
				}
			}
			for _, e := range order {
				work <- e
			}
			close(work)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("seed %d, %+v: %v", seed, p, err)
			}
			// Every process ends up seeing the same customers (within the
			// cache's bound on staleness).
			for i, s := range stores {
				testwait.NoError(t, 0, "the stores to agree", func() error {
					if got := storePartition(t, s, keys); got.String() != want.String() {
						return fmt.Errorf("seed %d, %+v, store %d: customers differ from the model\ngot:\n%s\nwant:\n%s", seed, p, i, got, want)
					}
					return nil
				})
			}
			for _, s := range stores {
				_ = s.Close(ctx)
			}
			_ = b.JS.DeleteKeyValue(ctx, cfg.Bucket)
			_ = b.JS.DeleteKeyValue(ctx, cfg.Bucket+"_items")
		}
	}
}
