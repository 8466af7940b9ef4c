package connectors

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

// countingObserver counts what the supervisor reports.
type countingObserver struct {
	mu      sync.Mutex
	errors  int
	refused map[string]int
}

func (o *countingObserver) StateChanged(string, State, State) {}
func (o *countingObserver) Ingested(string, bool)             {}
func (o *countingObserver) ConnectorError(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errors++
}
func (o *countingObserver) Refused(channel, why string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused[channel+"/"+why]++
}

func (o *countingObserver) counts() (errors, refused int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.errors, o.refused["web/"+bus.FullStore]
}

// flood publishes 16 KiB envelopes until the backbone refuses one.
func flood(ctx context.Context, h *Handle, run int) error {
	text := strings.Repeat("z", 16<<10)
	for i := 0; ; i++ {
		env := &message.Envelope{ID: fmt.Sprintf("web:r%d-%d", run, i), Channel: "web", Kind: message.KindWeb,
			SourceID: fmt.Sprintf("r%d-%d", run, i), Text: text, CreatedAt: time.Now()}
		if _, err := h.Publish(ctx, env); err != nil {
			return fmt.Errorf("web intake: %w", err)
		}
	}
}

func TestConnectorPausesWhileTheStoreIsFull(t *testing.T) {
	tests := []struct {
		name string
		// returns: the connector floods the store, then returns the
		// refusal (a poller); otherwise it keeps running (the intake) and
		// publishes again once room is made.
		returns bool
	}{
		{"poller returns the refusal", true},
		{"intake keeps running", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := bustest.Config(t)
			cfg.NATS.Embedded.MaxStore = 1 << 20
			b := bustest.Open(t, cfg)
			ctx, cancel := context.WithCancel(context.Background())
			obs := &countingObserver{refused: map[string]int{}}
			// The pause lasts long enough to be observed: a restart after a
			// few milliseconds could already find room for a small item.
			s := NewSupervisor(SupervisorOptions{Publisher: b, Checkpoints: bus.Checkpoints{KV: b.KV},
				Backoff: backoff.Policy{Min: 500 * time.Millisecond, Max: 500 * time.Millisecond}, Log: bustest.Logger(t), Observer: obs})
			t.Cleanup(func() { cancel(); s.Wait() })
			retry := make(chan struct{})
			c := &funcConnector{name: "web", f: func(ctx context.Context, h *Handle, run int) error {
				if run == 1 {
					err := flood(ctx, h, run)
					if tt.returns {
						return err
					}
					select { // the intake answered 503 and keeps serving
					case <-retry:
					case <-ctx.Done():
						return nil
					}
				}
				if _, err := h.Publish(ctx, envelope(fmt.Sprint("after-room-", run))); err != nil {
					return err
				}
				<-ctx.Done()
				return nil
			}}
			if err := s.Start(ctx, c); err != nil {
				t.Fatal(err)
			}
			st := waitState(t, s, "web", StatePaused)
			if st.Paused != "store full" || !strings.HasPrefix(st.LastError, "paused: store full: ") || st.Restarts != 0 {
				t.Fatalf("paused status %+v", st)
			}
			if errs, refused := obs.counts(); errs != 0 || refused == 0 {
				t.Fatalf("a full store counted %d connector errors and %d refusals; want 0 and some", errs, refused)
			}
			if tt.returns && st.NextAttemptAt == nil {
				t.Fatal("a paused poller does not say when it tries again")
			}

			// Room again: the connector resumes and its status clears.
			st2, err := b.JS.Stream(context.Background(), b.Subjects.IngestStream)
			if err != nil {
				t.Fatal(err)
			}
			if err := st2.Purge(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !tt.returns {
				close(retry)
			}
			testwait.Until(t, 0, "the connector to resume", func() bool {
				cur := s.Statuses()[0]
				return cur.State == StateRunning && cur.Paused == "" && cur.Ingested > 0 && cur.LastSuccess != nil && cur.LastSuccess.After(*st.LastErrorAt)
			})
			if errs, _ := obs.counts(); errs != 0 {
				t.Fatalf("%d connector errors counted for a full store", errs)
			}
		})
	}
}
