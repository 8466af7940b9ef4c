package bus_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
)

func env(id, text string) *message.Envelope {
	return &message.Envelope{Version: 1, ID: "web:" + id, Channel: "web", Kind: message.KindWeb, SourceID: id, Text: text,
		CreatedAt: time.Now(), ReceivedAt: time.Now()}
}

func TestStreamsCreatedIdempotentlyWithConfig(t *testing.T) {
	cfg := bustest.Config(t)
	cfg.Streams.Ingest.MaxAge = 0
	b := bustest.Open(t, cfg)
	ctx := context.Background()
	s, err := b.JS.Stream(ctx, "SWITCHBOARD_INGEST")
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Config.Duplicates != 48*time.Hour || info.Config.Storage != jetstream.FileStorage {
		t.Fatalf("ingest stream config: dup=%v storage=%v", info.Config.Duplicates, info.Config.Storage)
	}
	if got := info.Config.Subjects; len(got) != 1 || got[0] != "switchboard.ingest.>" {
		t.Fatalf("subjects %v", got)
	}
	// A second daemon on the same store is refused.
	if b2, err := bus.Open(ctx, cfg, bustest.Logger(t)); err == nil || !strings.Contains(err.Error(), "in use by another switchboard") {
		if b2 != nil {
			b2.Close()
		}
		t.Fatalf("second embedded server on the same store: %v", err)
	}
	// A restart with changed retention updates the streams in place.
	b.Close()
	cfg.Streams.Ingest.MaxBytes = 1 << 30
	b = bustest.Open(t, cfg)
	s, err = b.JS.Stream(ctx, "SWITCHBOARD_INGEST")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxBytes; got != 1<<30 {
		t.Fatalf("max_bytes after update = %d", got)
	}
}

func TestPublishIngestDedupsByChannelAndSourceID(t *testing.T) {
	b := bustest.Open(t, nil)
	ctx := context.Background()
	dup, err := b.PublishIngest(ctx, env("a1", "hello"))
	if err != nil || dup {
		t.Fatalf("first publish: dup=%v err=%v", dup, err)
	}
	dup, err = b.PublishIngest(ctx, env("a1", "hello again"))
	if err != nil || !dup {
		t.Fatalf("second publish of the same source id: dup=%v err=%v", dup, err)
	}
	s, _ := b.JS.Stream(ctx, b.Subjects.IngestStream)
	info, _ := s.Info(ctx)
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
	}
	m, err := s.GetLastMsgForSubject(ctx, "switchboard.ingest.web")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Nats-Msg-Id"); got != "web:a1" {
		t.Fatalf("Nats-Msg-Id = %q", got)
	}
}

func TestPublishIngestRejectsInvalidEnvelope(t *testing.T) {
	b := bustest.Open(t, nil)
	e := env("x", "")
	if _, err := b.PublishIngest(context.Background(), e); err == nil || !strings.Contains(err.Error(), "text: missing") {
		t.Fatalf("want validation error, got %v", err)
	}
}

func TestEmbeddedPortTakenIsAClearError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := bustest.Config(t)
	cfg.NATS.Embedded.Listen = l.Addr().String()
	_, err = bus.Open(context.Background(), cfg, bustest.Logger(t))
	if err == nil || !strings.Contains(err.Error(), "another process holds the port") {
		t.Fatalf("want a clear port-taken error, got %v", err)
	}
}

func TestReopenKeepsDataAndCheckpoints(t *testing.T) {
	cfg := bustest.Config(t)
	ctx := context.Background()
	b, err := bus.Open(ctx, cfg, bustest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PublishIngest(ctx, env("k", "x")); err != nil {
		t.Fatal(err)
	}
	cp := bus.Checkpoints{KV: b.KV}
	if err := cp.Save(ctx, "intake", []byte("42")); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b = bustest.Open(t, cfg)
	got, err := bus.Checkpoints{KV: b.KV}.Load(ctx, "intake")
	if err != nil || string(got) != "42" {
		t.Fatalf("checkpoint after restart = %q, %v", got, err)
	}
	none, err := bus.Checkpoints{KV: b.KV}.Load(ctx, "never-saved")
	if err != nil || none != nil {
		t.Fatalf("missing checkpoint = %q, %v", none, err)
	}
	dup, err := b.PublishIngest(ctx, env("k", "x"))
	if err != nil || !dup {
		t.Fatalf("dedup window must survive a restart: dup=%v err=%v", dup, err)
	}
}

func TestDialReachesEmbeddedServer(t *testing.T) {
	cfg := bustest.Config(t)
	b := bustest.Open(t, cfg)
	cfg.NATS.Embedded.Listen = strings.TrimPrefix(b.ClientURL(), "nats://")
	nc, js, err := bus.Dial(context.Background(), cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := js.Stream(context.Background(), "SWITCHBOARD_TEAM"); err != nil {
		t.Fatal(err)
	}
}
