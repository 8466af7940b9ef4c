package responses_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/responses/report"
	"github.com/switchboard/switchboard/router/decisions"
)

// realBase is a start time just behind the wall clock, for tests that read
// records back by the time they were stored.
func realBase() time.Time { return time.Now().UTC().Truncate(time.Minute).Add(-6 * time.Hour) }

// A Facebook comment the page answers after 20 minutes: 20 minutes in the
// record, the report and the histogram.
func TestFacebookCommentAnsweredAfter20Minutes(t *testing.T) {
	t0 := realBase()
	h := startHarness(t, t0)
	comment := envelope("facebook", message.KindComment, "104_887766", "104_998877", "104_998877",
		"Laskussani on kaksi kertaa sama tilaus, kenelle voin soittaa?", t0)
	h.routeAt(t0.Add(45*time.Second), comment, nil, "normal", "billing")
	h.waitOpen(1)

	// The page's reply under the comment, as the Facebook connector
	// publishes it.
	h.clock.Set(t0.Add(20 * time.Minute))
	h.respond(&message.Response{ID: "facebook:104_887799", Channel: "facebook", Kind: "reply", SourceID: "104_887799",
		InReplyTo: comment.ID, ThreadID: "104_998877", By: "page:104", At: t0.Add(20 * time.Minute)})
	got := h.answered(comment.ID)
	if got.DelaySeconds != 1200 || got.RoutedDelaySeconds != 1200-45 || got.By != "page:104" || got.Status != message.StatusResponded {
		t.Fatalf("response in the record: %+v", got)
	}
	h.waitOpen(0)
	rec := h.record(comment.ID)
	if last := rec.History[len(rec.History)-1]; last.Kind != decisions.EventResponse || last.By != "page:104" {
		t.Fatalf("history ends with %+v, want the response", last)
	}

	// The histogram.
	const hist = `
# HELP switchboard_first_response_seconds Seconds from the customer's message (created_at) to the first response, by team and channel (no_response_needed not observed).
# TYPE switchboard_first_response_seconds histogram
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="60"} 0
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="300"} 0
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="600"} 0
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="1800"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="3600"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="7200"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="14400"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="28800"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="86400"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="172800"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="345600"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="604800"} 1
switchboard_first_response_seconds_bucket{channel="facebook",team="billing",le="+Inf"} 1
switchboard_first_response_seconds_sum{channel="facebook",team="billing"} 1200
switchboard_first_response_seconds_count{channel="facebook",team="billing"} 1
`
	// Observed once the record holds the response, which the open set may
	// learn first (from the record's change): wait for it.
	testwait.NoError(t, 0, "the first response in the histogram", func() error {
		return testutil.GatherAndCompare(h.reg, strings.NewReader(hist), "switchboard_first_response_seconds")
	})

	// The report.
	rep, err := report.Build(context.Background(), h.records, h.policy, report.Options{Since: t0.Add(-time.Hour), Now: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("report rows: %+v", rep.Rows)
	}
	row := rep.Rows[0]
	if row.Team != "billing" || row.Channel != "facebook" || row.Routed != 1 || row.Responded != 1 || row.ResponseRate != 1 ||
		row.MedianSeconds != 1200 || row.P90Seconds != 1200 || row.OpenNow != 0 || row.PastTarget != 0 {
		t.Fatalf("report row: %+v", row)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "20m") {
		t.Fatalf("report text lacks 20m:\n%s", text.String())
	}
}

// A Messenger chat: the customer writes twice, the page answers after the
// second message (answering both), the customer writes again and the page
// answers that later. Messenger has no reply link: the thread decides.
func TestMessengerPageAnswersTheSecondMessage(t *testing.T) {
	t0 := realBase()
	h := startHarness(t, t0)
	msg := func(id, text string, at time.Time) *message.Envelope {
		return envelope("facebook", message.KindMessage, id, "t_100", "", text, at)
	}
	hello := msg("m_1", "Hei", t0)
	order := msg("m_2", "tilausnumero on 1180442", t0.Add(2*time.Minute))
	h.routeAt(t0.Add(3*time.Minute), hello, nil, "", "logistics")
	h.route(order, nil, "", "logistics")
	h.waitOpen(2)

	pageMsg := func(id string, at time.Time) *message.Response {
		return &message.Response{ID: "facebook:" + id, Channel: "facebook", Kind: "message", SourceID: id, ThreadID: "t_100", By: "page:104", At: at}
	}
	h.respond(pageMsg("m_3", t0.Add(15*time.Minute)))
	if d := h.answered(hello.ID).DelaySeconds; d != 15*60 {
		t.Fatalf("first message answered after %vs, want 900", d)
	}
	if d := h.answered(order.ID).DelaySeconds; d != 13*60 {
		t.Fatalf("second message answered after %vs, want 780", d)
	}
	h.waitOpen(0)

	again := msg("m_4", "Kiitos! Entä toimitusaika?", t0.Add(20*time.Minute))
	h.routeAt(t0.Add(21*time.Minute), again, nil, "", "logistics")
	h.waitOpen(1)
	h.respond(pageMsg("m_5", t0.Add(50*time.Minute)))
	if d := h.answered(again.ID).DelaySeconds; d != 30*60 {
		t.Fatalf("third message answered after %vs, want 1800", d)
	}
	if got := h.record(hello.ID).Response.ID; got != "facebook:m_3" {
		t.Fatalf("the first message's first response changed to %s", got)
	}
}

// Mail answered from the support address's Sent folder, matched by
// In-Reply-To; a later answer that replies to the company's own mail (not
// a routed item) is matched by the thread (References).
func TestEmailAnsweredFromSentFolder(t *testing.T) {
	t0 := realBase()
	h := startHarness(t, t0)
	first := envelope("email", message.KindEmail, "abc@customer.example", "abc@customer.example", "", "Paketti ei ole tullut", t0)
	first.Subject = "Tilaus 1180442"
	h.routeAt(t0.Add(time.Minute), first, nil, "", "logistics")
	h.waitOpen(1)

	sent := &message.Response{ID: "email:sent1@tuki.example", Channel: "email", Kind: "email", SourceID: "sent1@tuki.example",
		InReplyTo: first.ID, ThreadID: "abc@customer.example", By: "tuki@example.com", At: t0.Add(3 * time.Hour)}
	h.respond(sent)
	if got := h.answered(first.ID); got.DelaySeconds != 3*3600 || got.By != "tuki@example.com" || got.Channel != "email" {
		t.Fatalf("first mail's response: %+v", got)
	}

	// The customer answers the company's mail; the company answers that.
	second := envelope("email", message.KindEmail, "def@customer.example", "abc@customer.example", "sent1@tuki.example", "Vieläkään ei näy", t0.Add(5*time.Hour))
	h.routeAt(t0.Add(5*time.Hour+time.Minute), second, nil, "", "logistics")
	h.waitOpen(1)
	h.respond(&message.Response{ID: "email:sent2@tuki.example", Channel: "email", Kind: "email", SourceID: "sent2@tuki.example",
		InReplyTo: "email:sent1@tuki.example", ThreadID: "abc@customer.example", By: "tuki@example.com", At: t0.Add(6 * time.Hour)})
	if got := h.answered(second.ID); got.DelaySeconds != 3600 || got.ID != "email:sent2@tuki.example" {
		t.Fatalf("second mail's response: %+v", got)
	}
	h.waitOpen(0)
}

// An item never answered escalates once per level: not before its
// target, once after it (also across daemon restarts in between), and a
// late answer stops the next level.
func TestUnansweredEscalatesOnceAcrossRestarts(t *testing.T) {
	t0 := realBase()
	h := startHarness(t, t0)
	ctx := context.Background()
	mention := envelope("x", message.KindMention, "1860000000000000001", "1860000000000000001", "", "@kauppa missä tilaukseni??", t0)
	h.routeAt(t0.Add(time.Minute), mention, nil, "normal", "logistics")
	h.waitOpen(1)

	h.clock.Set(t0.Add(59 * time.Minute))
	h.tracker.CheckNow(ctx)
	if n := len(h.escalations()); n != 0 {
		t.Fatalf("%d escalations before the 1h target", n)
	}

	h.restart()
	h.waitOpen(1)
	h.clock.Set(t0.Add(61 * time.Minute))
	h.tracker.CheckNow(ctx)
	h.tracker.CheckNow(ctx)
	esc := h.escalations()
	if len(esc) != 1 {
		t.Fatalf("%d escalations after the target, want 1: %+v", len(esc), esc)
	}
	e := esc[0]
	if e.ID != mention.ID+":logistics:1" || e.Team != "logistics" || e.Level != 1 || e.Levels != 2 || e.Channel != "x" ||
		e.Target != "1h0m0s" || e.Age != "1h1m0s" || e.Link != "https://switchboard.example.com/ui/messages/x:1860000000000000001" ||
		!strings.Contains(e.Snippet, "missä tilaukseni") || !e.DueAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("escalation: %+v", e)
	}

	h.restart()
	h.waitOpen(1)
	h.clock.Set(t0.Add(70 * time.Minute))
	h.tracker.CheckNow(ctx)
	if n := len(h.escalations()); n != 1 {
		t.Fatalf("%d escalations after a restart, want still 1", n)
	}
	rec := h.record(mention.ID)
	escalated := 0
	for _, ev := range rec.History {
		if ev.Kind == decisions.EventEscalated {
			escalated++
		}
	}
	if escalated != 1 {
		t.Fatalf("record notes %d escalations, want 1: %+v", escalated, rec.History)
	}

	// A late answer, then past the second level: nothing more.
	h.respond(&message.Response{ID: "x:1860000000000000099", Channel: "x", Kind: "reply", SourceID: "1860000000000000099",
		InReplyTo: mention.ID, By: "@kauppa", At: t0.Add(90 * time.Minute)})
	h.answered(mention.ID)
	h.waitOpen(0)
	h.clock.Set(t0.Add(3 * time.Hour))
	h.tracker.CheckNow(ctx)
	if n := len(h.escalations()); n != 1 {
		t.Fatalf("%d escalations after the late answer, want 1", n)
	}
	if got := h.metric("switchboard_escalated_total", "team", "logistics", "channel", "x", "level", "1"); got != 1 {
		t.Fatalf("escalated counter %v", got)
	}
}

// An item arriving Friday 17:00 with an 8h business-hours target
// escalates on Monday at 16:00, not on Saturday.
func TestBusinessHoursEscalateOnMonday(t *testing.T) {
	hel, _ := time.LoadLocation("Europe/Helsinki")
	friday := time.Date(2026, 11, 20, 17, 0, 0, 0, hel)
	h := startHarness(t, friday)
	ctx := context.Background()
	mail := envelope("email", message.KindEmail, "inv-1@customer.example", "inv-1@customer.example", "", "Lasku on väärin", friday)
	h.routeAt(friday.Add(time.Minute), mail, nil, "", "billing")
	h.waitOpen(1)

	for _, at := range []time.Time{
		friday.Add(8 * time.Hour),                  // Saturday 01:00: 8 wall-clock hours
		time.Date(2026, 11, 21, 17, 0, 0, 0, hel),  // Saturday 17:00
		time.Date(2026, 11, 23, 15, 59, 0, 0, hel), // Monday 15:59
	} {
		h.clock.Set(at)
		h.tracker.CheckNow(ctx)
		if n := len(h.escalations()); n != 0 {
			t.Fatalf("escalated at %s, before Monday 16:00", at)
		}
	}
	monday := time.Date(2026, 11, 23, 16, 0, 0, 0, hel)
	h.clock.Set(monday)
	h.tracker.CheckNow(ctx)
	esc := h.escalations()
	if len(esc) != 1 || esc[0].Team != "billing" || esc[0].Calendar != "office" || !esc[0].DueAt.Equal(monday) {
		t.Fatalf("escalations on Monday 16:00: %+v", esc)
	}
}

// A response seen before its item was routed (the router lagging behind
// the connectors) answers the item when it is routed.
func TestResponseBeforeRouting(t *testing.T) {
	t0 := realBase()
	h := startHarness(t, t0)
	dm := envelope("x", message.KindDM, "dm_1", "111-222", "", "Hei, tilaus 1180442?", t0)
	h.clock.Set(t0.Add(10 * time.Minute))
	h.respond(&message.Response{ID: "x:dm_2", Channel: "x", Kind: "dm", SourceID: "dm_2", ThreadID: "111-222", By: "@kauppa", At: t0.Add(5 * time.Minute)})
	// The response is held, not answering anything yet...
	testwait.Until(t, 0, "the response to be consumed", func() bool { return h.pendingResponses() == 0 })
	h.route(dm, nil, "", "logistics")
	if got := h.answered(dm.ID); got.DelaySeconds != 300 || got.ID != "x:dm_2" {
		t.Fatalf("response: %+v", got)
	}
	if h.tracker.Open() != 0 {
		t.Fatalf("%d open items, want 0", h.tracker.Open())
	}
	// ...and a response that answers nothing within the match window is
	// counted as unmatched.
	h.respond(&message.Response{ID: "x:dm_9", Channel: "x", Kind: "dm", SourceID: "dm_9", ThreadID: "999-999", By: "@kauppa", At: t0.Add(11 * time.Minute)})
	testwait.Until(t, 0, "the response to be consumed", func() bool { return h.pendingResponses() == 0 })
	h.clock.Set(t0.Add(25 * time.Hour))
	h.tracker.CheckNow(context.Background())
	if got := h.metric("switchboard_responses_unmatched_total", "channel", "x", "reason", "no_item"); got != 1 {
		t.Fatalf("unmatched responses %v, want 1", got)
	}
}

// An item nobody answers leaves the open set after forget_after; its
// record stays, and a late answer is still written into it.
func TestForgetAfterKeepsTheRecord(t *testing.T) {
	t0 := realBase()
	h := newHarness(t, defaultPolicy, t0)
	h.tcfg.ForgetAfter = 5 * time.Hour
	h.start()
	ctx := context.Background()
	post := envelope("facebook", message.KindComment, "104_1", "104_0", "104_0", "Milloin avaatte?", t0)
	h.routeAt(t0.Add(time.Minute), post, nil, "", "comms")
	h.waitOpen(1)
	h.clock.Set(t0.Add(5 * time.Hour))
	h.tracker.CheckNow(ctx)
	h.waitOpen(0)
	if got := h.metric("switchboard_unanswered_total", "team", "comms", "channel", "facebook"); got != 1 {
		t.Fatalf("unanswered counter %v", got)
	}
	h.respond(&message.Response{ID: "facebook:104_2", Channel: "facebook", Kind: "reply", SourceID: "104_2", InReplyTo: post.ID, By: "page:104", At: t0.Add(6 * time.Hour)})
	if got := h.answered(post.ID); got.DelaySeconds != 6*3600 {
		t.Fatalf("late answer: %+v", got)
	}
}

// A response answers the customer's case through the seam cases will use.
func TestResponseClosesTheCase(t *testing.T) {
	t0 := realBase()
	h := newHarness(t, defaultPolicy, t0)
	closer := &caseCloser{closed: make(chan [2]string, 4)}
	h.cases = closer
	h.start()
	mail := envelope("email", message.KindEmail, "c1@customer.example", "c1@customer.example", "", "Palautus?", t0)
	h.routeAt(t0.Add(time.Minute), mail, nil, "", "billing")
	if _, err := h.records.Update(context.Background(), mail.ID, func(r *decisions.Record) (*decisions.Record, error) {
		r.Customer, r.Case = &decisions.Customer{ID: "cust-7"}, &decisions.Case{ID: "case-3", Team: "billing"}
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	h.waitOpen(1)
	h.respond(&message.Response{ID: "email:r1@tuki.example", Channel: "email", Kind: "email", SourceID: "r1@tuki.example", InReplyTo: mail.ID, By: "tuki@example.com", At: t0.Add(time.Hour)})
	if got := testwait.Receive(t, 0, "the case to be closed", closer.closed); got != [2]string{"cust-7", "case-3 by tuki@example.com"} {
		t.Fatalf("closed %v", got)
	}
}

type caseCloser struct{ closed chan [2]string }

func (c *caseCloser) Close(_ context.Context, customer, caseID, by string, _ time.Time) error {
	c.closed <- [2]string{customer, caseID + " by " + by}
	return nil
}
