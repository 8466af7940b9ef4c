package facebook_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/internal/message"
)

// TestPageCommentsAreResponses: the page's comments and replies are
// published as responses linked to what they answer, with when and by
// whom; they are never ingested as customer items.
func TestPageCommentsAreResponses(t *testing.T) {
	fake := newFake(t)
	page := fake.PageProfile(pageID)
	post := fake.AddPost(pageID, visitor, "Tilaus ei ole tullut", t0.Add(-2*time.Hour))
	asked := t0.Add(-90 * time.Minute)
	question := fake.AddComment(post, visitor2, "Minulla sama, missä paketit?", asked, "")
	answer := fake.AddComment(post, page, "Selvitämme, palaamme tunnin sisällä", asked.Add(20*time.Minute), question)
	onPost := fake.AddComment(post, page, "Pahoittelut viivästyksestä!", t0.Add(-60*time.Minute), "")

	e := newEnv(t, fake)
	e.start(e.opts(), feedOnly())
	e.mustPoll(pageID)

	rs := e.responses()
	tests := []struct {
		id, kind, inReplyTo string
		at                  time.Time
	}{
		{answer, "reply", message.MakeID("facebook", question), asked.Add(20 * time.Minute)},
		{onPost, "comment", message.MakeID("facebook", post), t0.Add(-60 * time.Minute)},
	}
	for _, tt := range tests {
		r := rs[tt.id]
		if r == nil {
			t.Fatalf("no response for the page's comment %s; have %v", tt.id, rs)
		}
		want := message.Response{Version: message.SchemaVersion, ID: "facebook:" + tt.id, Channel: "facebook", Kind: tt.kind,
			SourceID: tt.id, InReplyTo: tt.inReplyTo, By: "page Acme Oy", At: tt.at}
		if *r != want {
			t.Errorf("response\n got %+v\nwant %+v", *r, want)
		}
	}
	// The answer came 20 minutes after the customer's comment, which is
	// the envelope the response links to.
	pub := e.pub.(*memPub)
	q := pub.get(question)
	if q == nil || q.ID != rs[answer].InReplyTo || rs[answer].At.Sub(q.CreatedAt) != 20*time.Minute {
		t.Fatalf("question envelope %+v, answer %+v", q, rs[answer])
	}
	assertNothingOwnIngested(t, pub)
	if len(rs) != 2 {
		t.Fatalf("%d responses, want 2: %v", len(rs), rs)
	}
}

// TestMessengerAnswersAreResponses: the page's Messenger answer is a
// response carrying the conversation as its thread, exactly as the
// customer's envelopes do.
func TestMessengerAnswersAreResponses(t *testing.T) {
	fake := newFake(t)
	page := fake.PageProfile(pageID)
	first := fake.AddMessage(pageID, "t_4711", visitor, "Hei", t0.Add(-30*time.Minute))
	second := fake.AddMessage(pageID, "t_4711", visitor, "tilausnumero on 1180442", t0.Add(-29*time.Minute))
	answer := fake.AddMessage(pageID, "t_4711", page, "Kiitos, tilaus lähti eilen", t0.Add(-20*time.Minute))

	e := newEnv(t, fake)
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest.VisitorPosts, cfg.Ingest.Comments = false, false
	e.start(e.opts(), cfg)
	e.mustPoll(pageID)

	pub := e.pub.(*memPub)
	r := e.responses()[answer]
	if r == nil {
		t.Fatal("no response for the page's Messenger answer")
	}
	want := message.Response{Version: message.SchemaVersion, ID: "facebook:" + answer, Channel: "facebook", Kind: "message",
		SourceID: answer, ThreadID: "t_4711", By: "page Acme Oy", At: t0.Add(-20 * time.Minute)}
	if *r != want {
		t.Fatalf("response\n got %+v\nwant %+v", *r, want)
	}
	for _, id := range []string{first, second} {
		if env := pub.get(id); env == nil || env.ThreadID != r.ThreadID {
			t.Fatalf("customer message %s: %+v; its thread must be the response's %q", id, env, r.ThreadID)
		}
	}
	assertNothingOwnIngested(t, pub)
}

// TestResponsesNotTracked: without a response store nothing is published
// for the page's answers, and they are still never ingested.
func TestResponsesNotTracked(t *testing.T) {
	fake := newFake(t)
	page := fake.PageProfile(pageID)
	post := fake.AddPost(pageID, visitor, "Hei", t0.Add(-time.Hour))
	fake.AddComment(post, page, "Hei itsellesi", t0.Add(-50*time.Minute), "")
	fake.AddMessage(pageID, "t_1", visitor, "Hei", t0.Add(-30*time.Minute))
	fake.AddMessage(pageID, "t_1", page, "Moi", t0.Add(-20*time.Minute))
	e := newEnv(t, fake)
	e.resps = nil
	e.start(e.opts(), pageConfig(pageID, pageToken))
	e.mustPoll(pageID)
	pub := e.pub.(*memPub)
	if n, _ := pub.count(); n != 2 {
		t.Fatalf("ingested %v, want the post and the customer's message", pub.ids())
	}
	assertNothingOwnIngested(t, pub)
}

// TestResponseStoredBeforeTheCheckpoint: when a response cannot be stored
// the checkpoint stays, and the next poll stores it.
func TestResponseStoredBeforeTheCheckpoint(t *testing.T) {
	fake := newFake(t)
	page := fake.PageProfile(pageID)
	post := fake.AddPost(pageID, visitor, "Hei", t0.Add(-time.Hour))
	answer := fake.AddComment(post, page, "Hei!", t0.Add(-50*time.Minute), "")
	e := newEnv(t, fake)
	flaky := &flakyResponses{}
	flaky.failures.Store(1)
	e.respPub = flaky
	e.start(e.opts(), feedOnly())
	if err := e.wait(pageID); err == nil {
		t.Fatal("the poll succeeded although the response was not stored")
	}
	e.mustPoll(pageID)
	if got := flaky.All(); len(got) != 1 || got[0].SourceID != answer {
		t.Fatalf("responses %+v", got)
	}
}

// flakyResponses fails its first publishes.
type flakyResponses struct {
	connectortest.Responses
	failures atomic.Int32
}

func (f *flakyResponses) Publish(ctx context.Context, r *message.Response) (bool, error) {
	if f.failures.Add(-1) >= 0 {
		return false, errors.New("responses stream unavailable")
	}
	return f.Responses.Publish(ctx, r)
}

// assertNothingOwnIngested fails if an item the page wrote was ingested.
func assertNothingOwnIngested(t *testing.T, pub *memPub) {
	t.Helper()
	for _, env := range pub.Envelopes() {
		if env.Author.ID == pageID {
			t.Fatalf("the page's own %s %s was ingested as a customer item", env.Kind, env.SourceID)
		}
	}
}
