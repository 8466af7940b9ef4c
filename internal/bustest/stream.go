package bustest

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream opens the stream name on js and reads its info, failing t when
// either cannot be done.
func Stream(ctx context.Context, t testing.TB, js jetstream.JetStream, name string) (jetstream.Stream, *jetstream.StreamInfo) {
	t.Helper()
	st, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("opening stream %s: %v", name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatalf("reading the info of stream %s: %v", name, err)
	}
	return st, info
}

// Messages returns every message the stream name on js still holds, in
// sequence order (deleted ones are skipped), failing t when it cannot read
// them.
func Messages(ctx context.Context, t testing.TB, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	st, info := Stream(ctx, t, js, name)
	var msgs []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("reading message %d of stream %s: %v", seq, name, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}
