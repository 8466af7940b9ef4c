package connectortest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
)

// IngestStream reads b's real ingest stream, for tests that run a connector
// on embedded JetStream: the stream's state and the messages it holds, in
// sequence order. It fails t when the stream cannot be read within 5s.
func IngestStream(t testing.TB, b *bus.Bus) (jetstream.StreamState, []*jetstream.RawStreamMsg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.JS.Stream(ctx, b.Subjects.IngestStream)
	if err != nil {
		t.Fatalf("opening the ingest stream: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("reading the ingest stream's state: %v", err)
	}
	var msgs []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("reading ingest message %d: %v", seq, err)
		}
		msgs = append(msgs, m)
	}
	return info.State, msgs
}
