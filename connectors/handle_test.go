package connectors

import (
	"context"
	"testing"
	"time"

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
