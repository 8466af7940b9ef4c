package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/testwait"
)

func TestFullIngestStreamRefusesInsteadOfDropping(t *testing.T) {
	cfg := bustest.Config(t)
	cfg.Streams.Ingest.MaxBytes = 64 << 10
	b := bustest.Open(t, cfg)
	ctx := context.Background()
	text := strings.Repeat("y", 4<<10)
	var stored int
	var refusal error
	for i := range 40 {
		_, err := b.PublishIngest(ctx, env(fmt.Sprint("s", i), text))
		if err != nil {
			refusal = err
			break
		}
		stored++
	}
	if refusal == nil || !bus.IsStreamFull(refusal) || bus.IsStoreFull(refusal) {
		t.Fatalf("after %d stored: want a stream-full refusal, got %v", stored, refusal)
	}
	var full *bus.FullError
	if !errors.As(refusal, &full) || full.Full() != bus.FullStream || full.Stream != "SWITCHBOARD_INGEST" || b.Full() != bus.FullStream {
		t.Fatalf("refusal %#v, Full() %q", refusal, b.Full())
	}
	st, info := bustest.Stream(ctx, t, b.JS, b.Subjects.IngestStream)
	if info.State.FirstSeq != 1 || info.State.Msgs != uint64(stored) {
		t.Fatalf("stream holds %d messages from seq %d; want all %d stored, none dropped", info.State.Msgs, info.State.FirstSeq, stored)
	}
	if err := b.Ready(ctx); err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_INGEST is at its max_bytes") {
		t.Fatalf("Ready = %v", err)
	}
	// Room again (here by a purge; in production max_age): Monitor notices.
	if err := st.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	go b.Monitor(mctx, 10*time.Millisecond, &usage{})
	testwait.NoError(t, 0, "the bus to be ready again", func() error { return b.Ready(ctx) })
}

func TestStreamsDiscardNewAfterUpgrade(t *testing.T) {
	cfg := bustest.Config(t)
	b := bustest.Open(t, cfg)
	ctx := context.Background()
	// A stream created by an older version, which discarded old messages.
	for _, sc := range bus.StreamConfigs(cfg.Streams) {
		sc.Discard = jetstream.DiscardOld
		if _, err := b.JS.UpdateStream(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	b = bustest.Open(t, cfg)
	for _, name := range []string{"SWITCHBOARD_INGEST", "SWITCHBOARD_TEAM", "SWITCHBOARD_DEAD"} {
		st, err := b.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.CachedInfo().Config.Discard; got != jetstream.DiscardNew {
			t.Errorf("%s discard policy %v after restart, want new", name, got)
		}
	}
}
