package router

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/casetest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/rules"
)

// One customer who writes on X and then by email within the hour about
// the same order is one customer with one case and one team; a second
// customer with the same name and no shared identifier stays apart; the
// links and the case survive a restart of the router.
func TestCustomerAcrossChannelsIsOneCase(t *testing.T) {
	ctx := context.Background()
	rs := &fakeRules{version: "v1", teams: []rules.Team{natsTeam("triage"), natsTeam("billing"), natsTeam("logistics")}}
	b := bustest.Open(t, nil)
	custs, cs := casetest.Open(ctx, t, b.JS, identity.Config{Patterns: map[string]string{"order": `\b11\d{5}\b`}, OwnDomains: []string{"yritys.fi"}})
	opts := harnessOpts{customers: cases.Linker{Customers: custs, Cases: cs}, cases: cs}
	h := startRouter(t, b, Static(rs), opts)

	now := time.Now().UTC()
	mention := envelope("to=logistics tilaus 1180442 ei ole vieläkään tullut")
	mention.Channel, mention.Kind, mention.SourceID = "x", message.KindMention, "1001"
	mention.ID = message.MakeID("x", "1001")
	mention.Author = message.Author{ID: "2001", Handle: "mattim", Name: "Matti Meikäläinen"}
	mention.CreatedAt = now.Add(-50 * time.Minute)

	mail := envelope("Kirjoitin jo X:ssä. Tilaus 1180442 on yhä hukassa, mitä teen?")
	mail.Channel, mail.Kind, mail.SourceID = "email", message.KindEmail, "m1@example.fi"
	mail.ID = message.MakeID("email", "m1@example.fi")
	mail.Author = message.Author{ID: "matti@example.fi", Email: "matti@example.fi", Name: "Matti Meikäläinen"}
	mail.CreatedAt = now.Add(-10 * time.Minute)

	other := envelope("to=billing laskussa on virhe")
	other.Channel, other.Kind, other.SourceID = "email", message.KindEmail, "m2@example.fi"
	other.ID = message.MakeID("email", "m2@example.fi")
	other.Author = message.Author{ID: "matti.m@example.org", Email: "matti.m@example.org", Name: "Matti Meikäläinen"}
	other.CreatedAt = now.Add(-5 * time.Minute)

	h.publish(mention)
	h.waitAcked(10 * time.Second)
	h.stop() // a restart in the middle keeps links and cases
	h = startRouter(t, b, Static(rs), opts)
	h.publish(mail, other)
	h.waitAcked(10 * time.Second)

	rec := func(id string) *decisions.Record {
		var r *decisions.Record
		testwait.NoError(t, 0, "the decision record of "+id, func() (err error) {
			r, err = h.records.Get(ctx, id)
			return err
		})
		return r
	}
	m, e, o := rec(mention.ID), rec(mail.ID), rec(other.ID)
	if m.Customer == nil || e.Customer == nil || m.Customer.ID != e.Customer.ID || e.Customer.Strength != "confirmed" {
		t.Fatalf("X and mail customers %+v and %+v, want one confirmed customer", m.Customer, e.Customer)
	}
	if m.Case == nil || e.Case == nil || e.Case.ID != m.Case.ID || !e.Case.FollowUp {
		t.Fatalf("cases %+v and %+v, want the mail to join the mention's case", m.Case, e.Case)
	}
	if len(e.Teams) != 1 || e.Teams[0] != "logistics" || e.Reason != decisions.ReasonCase {
		t.Fatalf("the mail went to %v by %s, want logistics by its case", e.Teams, e.Reason)
	}
	if o.Customer == nil || o.Customer.ID == m.Customer.ID {
		t.Fatalf("another customer with the same name was linked: %+v", o.Customer)
	}
	if o.Case == nil || o.Case.FollowUp || o.Case.Related != nil {
		t.Fatalf("the other customer's case %+v, want a new case of their own", o.Case)
	}
	if got := teamIDs(t, b, "logistics"); len(got) != 2 {
		t.Fatalf("logistics has %v, want the mention and the mail", got)
	}

	// The routed item carries the customer and the case (format v2).
	items := teamItemsOf(t, b, "logistics")
	last := items[len(items)-1]
	if last.Version != message.RoutedVersion || last.Customer == nil || last.Case == nil || last.Route.Reason != decisions.ReasonCase {
		t.Fatalf("routed item %+v", last)
	}
}
