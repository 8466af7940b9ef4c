package customer

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
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
	b := bustest.Open(t, nil)
	s, err := Open(context.Background(), b.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// msg builds an envelope; seq makes the id unique.
func msg(channel, id, name, text string, at time.Time, seq int) *message.Envelope {
	e := &message.Envelope{Version: 1, Channel: channel, Kind: message.KindComment, Text: text, CreatedAt: at, ReceivedAt: at}
	e.SourceID = channel + "-" + time.Duration(seq).String()
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

func TestObserveLinksKeysOfOneMessage(t *testing.T) {
	s := openStore(t, testConfig())
	r1 := observe(t, s, msg("facebook", "7011", "Maija Meikäläinen", "Tilaus 1180442 ei tullut", t0, 1))
	r2 := observe(t, s, msg("email", "maija@example.fi", "Maija Meikäläinen", "Tilauksesta 1180442: missä viipyy?", t0.Add(time.Hour), 2))
	if r1.Customer == nil || r2.Customer == nil {
		t.Fatalf("no customer: %+v %+v", r1, r2)
	}
	if r1.Customer.ID != r2.Customer.ID {
		t.Fatalf("not linked by the order number: %s vs %s", r1.Customer.ID, r2.Customer.ID)
	}
	if r2.Customer.Strength != Confirmed {
		t.Fatalf("strength %s", r2.Customer.Strength)
	}
	c, err := s.Show(context.Background(), "order:1180442")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", c)
	if len(c.Keys) != 3 || len(c.Channels) != 2 {
		t.Fatalf("customer %+v", c)
	}
}
