package customer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{Identity: identity.Config{
		Patterns:   map[string]string{"order": `\b11\d{5}\b`},
		OwnDomains: []string{"yritys.fi"},
	}, MaxBytes: 8 << 20}
}

func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	return openOn(t, openBus(t), cfg)
}

func openBus(t testing.TB) *bus.Bus { return bustest.Open(t, nil) }

func openOn(t testing.TB, b *bus.Bus, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), b.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// msg builds an envelope from author id (and name) on channel; seq makes
// the id unique.
func msg(channel, id, name, text string, at time.Time, seq int) *message.Envelope {
	e := &message.Envelope{Version: 1, Channel: channel, Kind: message.KindComment, Text: text, CreatedAt: at, ReceivedAt: at}
	e.SourceID = fmt.Sprintf("%s-%d", channel, seq)
	e.ID = message.MakeID(channel, e.SourceID)
	switch channel {
	case "email":
		e.Author = message.Author{ID: id, Email: id, Name: name}
		e.Kind = message.KindEmail
	default:
		e.Author = message.Author{ID: id, Name: name}
	}
	return e
}

func observe(t testing.TB, s *Store, e *message.Envelope) Result {
	t.Helper()
	r, err := s.Observe(context.Background(), e)
	if err != nil {
		t.Fatalf("Observe(%s): %v", e.ID, err)
	}
	return r
}

// customerKeys returns the keys of k's customer, sorted; nil when none.
func customerKeys(t testing.TB, s *Store, k identity.Key) []string {
	t.Helper()
	c, err := s.Show(context.Background(), k)
	if errors.Is(err, ErrUnknownKey) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ki := range c.Keys {
		out = append(out, string(ki.Key))
	}
	slices.Sort(out)
	return out
}

func TestObserve(t *testing.T) {
	tests := []struct {
		name string
		msgs []*message.Envelope
		// groups are the expected customers; keys not listed belong to
		// none.
		groups   [][]string
		strength Strength // of the last message's customer
	}{
		{
			name: "an order number in two messages links them",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "Maija Meikäläinen", "Tilaus 1180442 ei tullut", t0, 1),
				msg("email", "maija@example.fi", "Maija Meikäläinen", "Tilauksesta 1180442: missä viipyy?", t0.Add(time.Hour), 2),
			},
			groups:   [][]string{{"email:maija@example.fi", "fb:7011", "order:1180442"}},
			strength: Confirmed,
		},
		{
			name: "a phone in a signature links the address and the phone",
			msgs: []*message.Envelope{
				msg("email", "matti@example.fi", "", "Hei, soittakaa 040 123 4567", t0, 1),
				msg("x", "555", "", "Numeroni on +358 40 123 4567", t0.Add(time.Hour), 2),
			},
			groups:   [][]string{{"email:matti@example.fi", "phone:+358401234567", "x:555"}},
			strength: Confirmed,
		},
		{
			name: "two customers with the same name and no cross-reference are not linked",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "Matti Meikäläinen", "Paketti ei tullut", t0, 1),
				msg("email", "matti@example.fi", "matti meikalainen", "Laskussa on virhe", t0.Add(time.Hour), 2),
				msg("x", "555", "MATTI MEIKÄLÄINEN", "Hyvää palvelua!", t0.Add(2*time.Hour), 3),
			},
			groups:   [][]string{{"fb:7011"}, {"email:matti@example.fi"}, {"x:555"}},
			strength: Confirmed,
		},
		{
			name: "the same name and a reference to the other channel link them as probable",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "Matti Meikäläinen", "Paketti ei tullut", t0, 1),
				msg("email", "matti@example.fi", "Meikäläinen Matti", "Kirjoitin teille jo Facebookissa, paketti puuttuu", t0.Add(3*time.Hour), 2),
			},
			groups:   [][]string{{"email:matti@example.fi", "fb:7011"}},
			strength: Probable,
		},
		{
			name: "the reference may come first",
			msgs: []*message.Envelope{
				msg("email", "matti@example.fi", "Matti Meikäläinen", "I also wrote to you on Facebook", t0, 1),
				msg("facebook", "7011", "Matti Meikäläinen", "Paketti ei tullut", t0.Add(-time.Hour), 2),
			},
			groups:   [][]string{{"email:matti@example.fi", "fb:7011"}},
			strength: Probable,
		},
		{
			name: "a reference outside the window does not link",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "Matti Meikäläinen", "Paketti ei tullut", t0, 1),
				msg("email", "matti@example.fi", "Matti Meikäläinen", "Kirjoitin teille Facebookissa", t0.Add(5*DefaultProbableWindow/2), 2),
			},
			groups:   [][]string{{"fb:7011"}, {"email:matti@example.fi"}},
			strength: Confirmed,
		},
		{
			name: "two authors with the name on the referred channel: ambiguous, no link",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "Matti Meikäläinen", "Paketti ei tullut", t0, 1),
				msg("facebook", "7022", "Matti Meikäläinen", "Kiitos!", t0.Add(time.Hour), 2),
				msg("email", "matti@example.fi", "Matti Meikäläinen", "Laitoin viestiä facebookissa", t0.Add(2*time.Hour), 3),
			},
			groups:   [][]string{{"fb:7011"}, {"fb:7022"}, {"email:matti@example.fi"}},
			strength: Confirmed,
		},
		{
			name: "a second author with the name takes the probable link back",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "Matti Meikäläinen", "Paketti ei tullut", t0, 1),
				msg("email", "matti@example.fi", "Matti Meikäläinen", "Laitoin viestiä facebookissa", t0.Add(2*time.Hour), 2),
				msg("facebook", "7022", "Matti Meikäläinen", "Kiitos!", t0.Add(time.Hour), 3),
			},
			groups:   [][]string{{"fb:7011"}, {"fb:7022"}, {"email:matti@example.fi"}},
			strength: Confirmed,
		},
		{
			name: "a one-word name never links",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "Matti", "Paketti ei tullut", t0, 1),
				msg("email", "matti@example.fi", "Matti", "Kirjoitin teille Facebookissa", t0.Add(time.Hour), 2),
			},
			groups:   [][]string{{"fb:7011"}, {"email:matti@example.fi"}},
			strength: Confirmed,
		},
		{
			name: "the company's own address quoted in text links nothing",
			msgs: []*message.Envelope{
				msg("facebook", "7011", "", "Laitoin viestiä osoitteeseen asiakaspalvelu@yritys.fi", t0, 1),
				msg("x", "555", "", "Kysyin asiakaspalvelu@yritys.fi:stä", t0.Add(time.Hour), 2),
			},
			groups:   [][]string{{"fb:7011"}, {"x:555"}},
			strength: Confirmed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, testConfig())
			var last Result
			for _, e := range tt.msgs {
				last = observe(t, s, e)
			}
			for _, g := range tt.groups {
				if got := customerKeys(t, s, identity.Key(g[0])); !slices.Equal(got, g) {
					t.Errorf("customer of %s has %q, want %q", g[0], got, g)
				}
			}
			if last.Customer == nil || last.Customer.Strength != tt.strength {
				t.Errorf("last customer %+v, want strength %s", last.Customer, tt.strength)
			}
		})
	}
}

func TestObserveResult(t *testing.T) {
	s := openStore(t, testConfig())
	r1 := observe(t, s, msg("facebook", "7011", "", "Tilaus 1180442", t0, 1))
	r2 := observe(t, s, msg("email", "maija@example.fi", "", "Tilaus 1180442", t0.Add(time.Hour), 2))
	if r1.Customer.ID != r2.Customer.ID || !slices.Equal(r2.Customer.Channels, []string{"email", "facebook"}) {
		t.Fatalf("results %+v, %+v", r1.Customer, r2.Customer)
	}
	if want := customerID("fb:7011"); r1.Customer.ID != want {
		t.Fatalf("id %s, want the earliest key's %s", r1.Customer.ID, want)
	}
	// A customer joining another one: the result says which id went.
	r3 := observe(t, s, msg("x", "555", "", "hei", t0.Add(-time.Hour), 3))
	r4 := observe(t, s, msg("x", "555", "", "tilaus 1180442", t0.Add(2*time.Hour), 4))
	if r4.Customer.ID != r3.Customer.ID || len(r4.Changes) != 1 || r4.Changes[0].From != r1.Customer.ID ||
		!slices.Equal(r4.Changes[0].To, []string{r3.Customer.ID}) {
		t.Fatalf("merge result %+v (customers %s, %s)", r4, r1.Customer.ID, r3.Customer.ID)
	}
	// The same envelope again changes nothing.
	again := observe(t, s, msg("x", "555", "", "tilaus 1180442", t0.Add(2*time.Hour), 4))
	if again.Customer.ID != r4.Customer.ID || len(again.Changes) != 0 {
		t.Fatalf("redelivery %+v", again)
	}
	// The company's own post has no customer.
	own := msg("facebook", "104", "Yritys", "Tervetuloa!", t0, 5)
	own.Metadata = map[string]string{"page_id": "104"}
	if r := observe(t, s, own); r.Customer != nil || len(r.Keys) != 0 {
		t.Fatalf("own post %+v", r)
	}
	// Recent items, newest first, arrive without waiting for Observe.
	testwait.NoError(t, 0, "recent items", func() error {
		c, err := s.Show(context.Background(), "x:555")
		if err != nil {
			return err
		}
		var ids []string
		for _, it := range c.Recent {
			ids = append(ids, it.ID)
		}
		if want := []string{"x:x-4", "email:email-2", "facebook:facebook-1", "x:x-3"}; !slices.Equal(ids, want) {
			return fmt.Errorf("recent %q, want %q", ids, want)
		}
		return nil
	})
}

func TestSharedKeyStopsLinking(t *testing.T) {
	cfg := testConfig()
	cfg.MaxPeers = 3
	s := openStore(t, cfg)
	// Four people give the office switchboard number in their signature.
	for i := range 3 {
		observe(t, s, msg("email", fmt.Sprintf("p%d@example.fi", i), "", "Terveisin, vaihde 09 555 0100", t0, i))
	}
	if got := customerKeys(t, s, "email:p0@example.fi"); len(got) != 4 {
		t.Fatalf("before: %q (three people glued by one phone: the price of learning it is shared)", got)
	}
	r := observe(t, s, msg("email", "p3@example.fi", "", "Terveisin, vaihde 09 555 0100", t0, 3))
	if len(r.Changes) != 1 || !strings.Contains(r.Changes[0].Why, "shared") || len(r.Changes[0].To) != 3 {
		t.Fatalf("changes %+v", r.Changes)
	}
	for i := range 4 {
		k := identity.Key(fmt.Sprintf("email:p%d@example.fi", i))
		if got := customerKeys(t, s, k); !slices.Equal(got, []string{string(k)}) {
			t.Errorf("%s: customer %q, want itself alone", k, got)
		}
	}
	if _, err := s.Show(context.Background(), "phone:+35895550100"); !errors.Is(err, ErrSharedKey) {
		t.Fatalf("show of the shared phone: %v", err)
	}
	r = observe(t, s, msg("email", "p4@example.fi", "", "vaihde 09 555 0100", t0, 4))
	if len(r.Skipped) == 0 || r.Skipped[0].Reason != ReasonShared {
		t.Fatalf("skipped %+v", r.Skipped)
	}
}

func TestMaxKeysRefusesAndSays(t *testing.T) {
	cfg := testConfig()
	cfg.MaxKeys = 3
	cfg.MaxLinks = 3
	s := openStore(t, cfg)
	observe(t, s, msg("email", "a@example.fi", "", "tilaus 1100001 ja 1100002", t0, 1))
	r := observe(t, s, msg("email", "a@example.fi", "", "tilaus 1100003", t0, 2))
	if len(r.Skipped) != 1 || r.Skipped[0].Key != "order:1100003" || r.Skipped[0].Reason != ReasonMaxKeys {
		t.Fatalf("skipped %+v", r.Skipped)
	}
	if got := customerKeys(t, s, "email:a@example.fi"); len(got) != 3 {
		t.Fatalf("customer %q", got)
	}
}

func TestRestartKeepsLinks(t *testing.T) {
	bcfg := bustest.Config(t)
	b1 := bustest.Open(t, bcfg)
	ctx := context.Background()
	s1, err := Open(ctx, b1.JS, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	r1 := observe(t, s1, msg("facebook", "7011", "Matti Meikäläinen", "Tilaus 1180442", t0, 1))
	observe(t, s1, msg("email", "matti@example.fi", "Matti Meikäläinen", "Tilaus 1180442; kirjoitin myös Facebookissa", t0.Add(time.Hour), 2))
	if err := s1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b1.Close()

	b2 := bustest.Open(t, bcfg)
	s2 := openOn(t, b2, testConfig())
	want := []string{"email:matti@example.fi", "fb:7011", "order:1180442"}
	if got := customerKeys(t, s2, "fb:7011"); !slices.Equal(got, want) {
		t.Fatalf("after restart: %q, want %q", got, want)
	}
	r := observe(t, s2, msg("x", "555", "", "tilaus 1180442", t0.Add(2*time.Hour), 3))
	if r.Customer.ID != r1.Customer.ID {
		t.Fatalf("id after restart %s, want %s", r.Customer.ID, r1.Customer.ID)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{
		Identity:       identity.Config{Patterns: map[string]string{"order": "("}},
		Bucket:         "bad.name",
		TTL:            yamlfile.Duration(time.Minute),
		ProbableWindow: yamlfile.Duration(time.Second),
		MaxKeys:        1,
		MaxPeers:       -1,
		MaxLinks:       -1,
		RecentItems:    65,
		CacheEntries:   -1,
		MaxBytes:       10,
		Replicas:       9,
	}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"patterns.order:", "bucket:", "ttl:", "probable_window:", "max_keys:", "max_peers:",
		"max_links:", "recent_items:", "cache_entries:", "max_bytes:", "replicas:"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("no error for %s in:\n%v", field, err)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("the zero config: %v", err)
	}
	if err := (Config{TTL: yamlfile.Duration(time.Hour), ProbableWindow: yamlfile.Duration(2 * time.Hour)}).Validate(); err == nil || !strings.Contains(err.Error(), "probable_window") {
		t.Fatalf("window longer than ttl: %v", err)
	}
}
