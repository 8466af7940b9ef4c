package connectors

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/internal/message"
)

func TestPublishResponses(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 20, 0, 0, time.UTC)
	reply := &message.Response{ID: "facebook:1_9", Channel: "facebook", Kind: "comment", SourceID: "1_9", InReplyTo: "facebook:1_5", By: "page 1", At: at}

	untracked := &Handle{name: "fb", status: &status{}, now: time.Now}
	if untracked.TracksResponses() {
		t.Fatal("a handle without a response publisher says it tracks responses")
	}
	if err := untracked.PublishResponses(ctx, reply); err != nil {
		t.Fatalf("untracked responses: %v, want nothing done", err)
	}

	store := &connectortest.Responses{}
	h := &Handle{name: "fb", resp: store, status: &status{}, now: time.Now}
	if !h.TracksResponses() {
		t.Fatal("TracksResponses is false with a publisher")
	}
	bad := &message.Response{ID: "facebook:1_10", Channel: "facebook", SourceID: "1_10", At: at} // links nothing
	if err := h.PublishResponses(ctx, reply, reply, bad); err == nil {
		t.Fatal("an invalid response was accepted")
	}
	if got := store.All(); len(got) != 1 || got[0].ID != reply.ID || got[0].Version != message.SchemaVersion {
		t.Fatalf("stored %+v, want the reply once with the schema version", got)
	}
}

// Every envelope is sanitized where it enters, and each item stored,
// repeated or refused gets one debug line with its id.
func TestPublishSanitizesAndLogsEachItem(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	pub := &connectortest.Publisher{}
	h := &Handle{name: "x", pub: pub, status: &status{}, now: time.Now, log: zap.New(core)}
	env := func() *message.Envelope {
		return &message.Envelope{ID: "x:1\x00", Channel: "x", Kind: message.KindMention, SourceID: "1\x00",
			URL: "javascript:alert(1)", Author: message.Author{Name: "\u202eevil"}, Text: "hei\x1b[2J",
			Metadata: map[string]string{"attachment_name": "../../x.sh"}}
	}
	ctx := context.Background()
	if dup, err := h.PublishOne(ctx, env()); err != nil || dup {
		t.Fatalf("first publish: %v, duplicate %v", err, dup)
	}
	if dup, err := h.PublishOne(ctx, env()); err != nil || !dup {
		t.Fatalf("second publish: %v, duplicate %v", err, dup)
	}
	pub.Fail(errors.New("nats down"))
	if _, err := h.Publish(ctx, env()); err == nil {
		t.Fatal("want the publisher's error")
	}
	got := pub.Envelopes()[0]
	if got.ID != "x:1" || got.URL != "" || got.Author.Name != "evil" || got.Text != "hei[2J" || got.Metadata["attachment_name"] != "x.sh" {
		t.Fatalf("stored %+v", got)
	}
	for msg, n := range map[string]int{"item stored": 1, "item already stored: duplicate": 1, "item not stored": 1} {
		if l := logs.FilterMessage(msg).FilterField(zap.String("id", "x:1")); l.Len() != n {
			t.Errorf("%q logged %d times with the id, want %d", msg, l.Len(), n)
		}
	}
}
