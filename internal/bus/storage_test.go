package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/testwait"
)

// usage records what Monitor reports.
type usage struct {
	mu                sync.Mutex
	used, limit, seen int64
	full              string
}

func (u *usage) StoreUsage(used, limit int64, full string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.used, u.limit, u.full = used, limit, full
	u.seen++
}

func (u *usage) get() (used, limit int64, full string, seen int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.used, u.limit, u.full, u.seen
}

func TestMaxStoreIsEnforced(t *testing.T) {
	const maxStore = 2 << 20
	cfg := bustest.Config(t)
	cfg.NATS.Embedded.MaxStore = maxStore
	b := bustest.Open(t, cfg)
	ctx := context.Background()

	// Flood: 16 KiB messages, well past the cap.
	text := strings.Repeat("x", 16<<10)
	var stored, refused int
	var firstRefusal error
	for i := range 400 {
		_, err := b.PublishIngest(ctx, env(fmt.Sprint("flood-", i), text))
		switch {
		case err == nil:
			stored++
		case bus.IsStoreFull(err):
			refused++
			if firstRefusal == nil {
				firstRefusal = err
			}
		default:
			t.Fatalf("publish %d: want stored or store full, got %v", i, err)
		}
	}
	t.Logf("stored %d, refused %d", stored, refused)
	if stored == 0 || refused == 0 {
		t.Fatalf("stored %d, refused %d: want both", stored, refused)
	}
	s, err := b.Storage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Limit != maxStore || s.Used > maxStore {
		t.Fatalf("store uses %d bytes of a %d-byte limit (cap %d)", s.Used, s.Limit, maxStore)
	}
	var full *bus.FullError
	if !errors.As(firstRefusal, &full) || full.Full() != "store full" || bus.FullReason(firstRefusal) != bus.FullStore {
		t.Fatalf("refusal is not a recognisable FullError: %#v", firstRefusal)
	}
	if msg := firstRefusal.Error(); !strings.HasPrefix(msg, "the JetStream store is full") || !strings.Contains(msg, "publishing web:flood-") {
		t.Fatalf("refusal does not say what was published: %v", firstRefusal)
	}
	if b.Full() != bus.FullStore {
		t.Fatalf("Full() = %q after refusals", b.Full())
	}
	if err := b.Ready(ctx); err == nil || !strings.Contains(err.Error(), "store is full") {
		t.Fatalf("Ready = %v, want it to report the full store", err)
	}

	// Monitor reports usage, and once room is made the bus is ready again
	// without anyone publishing.
	obs := &usage{}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	go b.Monitor(mctx, 10*time.Millisecond, obs)
	testwait.Until(t, 0, "a usage report while full", func() bool {
		used, limit, f, _ := obs.get()
		return used > 0 && limit == maxStore && f == bus.FullStore
	})
	st, err := b.JS.Stream(ctx, b.Subjects.IngestStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 0, "the bus to be ready once the store has room", func() error { return b.Ready(ctx) })
	testwait.Until(t, 0, "a usage report with room", func() bool {
		_, _, f, _ := obs.get()
		return f == ""
	})
	if _, err := b.PublishIngest(ctx, env("after-room", text)); err != nil {
		t.Fatalf("publish after making room: %v", err)
	}
}

func TestNoMaxStoreMeansNoLimit(t *testing.T) {
	b := bustest.Open(t, nil)
	s, err := b.Storage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Limit != -1 {
		t.Fatalf("limit %d without max_store, want -1", s.Limit)
	}
}

// A max_store larger than the disk, with a stream reserving much of it,
// starts — with a warning — and starts again after a restart, when the
// recovered stream's reservation is counted before the account limit is
// applied. (nats-server counts both against its own store limit; left to
// the disk's size, the restart was refused.)
func TestMaxStoreBeyondTheDiskStartsAndRestarts(t *testing.T) {
	const maxStore = 1 << 50 // 1 PiB: more than any test machine's disk
	cfg := bustest.Config(t)
	cfg.NATS.Embedded.MaxStore = maxStore
	cfg.Streams.Ingest.MaxBytes = maxStore / 2
	ctx := context.Background()
	for start := 1; start <= 2; start++ {
		core, logs := observer.New(zap.WarnLevel)
		b, err := bus.Open(ctx, cfg, zap.New(core))
		if err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		s, err := b.Storage(ctx)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		if s.Limit != maxStore {
			t.Fatalf("start %d: store limit %d, want %d", start, s.Limit, maxStore)
		}
		if logs.FilterMessageSnippet("more than the disk can hold").Len() != 1 {
			t.Fatalf("start %d: no warning that the disk is smaller than max_store: %v", start, logs.All())
		}
	}
}
