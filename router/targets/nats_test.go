package targets

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
)

func TestNATSDeliversOnce(t *testing.T) {
	b := bustest.Open(t, nil)
	ctx := context.Background()
	q := NewNATS(b.JS, b.Subjects.TeamStream, b.Subjects.Team)
	item := routed("web:1", "billing")
	data, _ := json.Marshal(item)
	for range 3 {
		if err := q.Deliver(ctx, item, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Deliver(ctx, routed("web:1", "sales"), data); err != nil {
		t.Fatal(err)
	}
	for team, want := range map[string]int64{"billing": 1, "sales": 1, "triage": 0} {
		n, err := q.Depth(ctx, team)
		if err != nil || n != want {
			t.Errorf("%s: depth %d (%v), want %d", team, n, err, want)
		}
	}
	s, _ := b.JS.Stream(ctx, b.Subjects.TeamStream)
	m, err := s.GetLastMsgForSubject(ctx, b.Subjects.Team("billing"))
	if err != nil {
		t.Fatal(err)
	}
	var got message.Routed
	if err := json.Unmarshal(m.Data, &got); err != nil || got.ID != "web:1" || got.Team != "billing" {
		t.Fatalf("stored %s (%v)", m.Data, err)
	}
	if m.Header.Get(nats.MsgIdHdr) != "web:1:billing" {
		t.Fatalf("msg id %q", m.Header.Get(nats.MsgIdHdr))
	}
}

func TestNATSTooLargeIsPermanent(t *testing.T) {
	b := bustest.Open(t, nil)
	q := NewNATS(b.JS, b.Subjects.TeamStream, b.Subjects.Team)
	big := make([]byte, 9<<20) // the embedded server's max payload is 8 MiB
	err := q.Deliver(context.Background(), routed("web:1", "billing"), big)
	if err == nil || !IsPermanent(err) || !errors.Is(err, nats.ErrMaxPayload) {
		t.Fatalf("want a permanent max-payload error, got %v", err)
	}
	if !strings.Contains(err.Error(), "switchboard.team.billing") {
		t.Fatalf("error does not name the subject: %v", err)
	}
}
