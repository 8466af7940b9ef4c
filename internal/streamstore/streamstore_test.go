package streamstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bustest"
)

// TestReadWhile: a false from fn ends the reading after its batch; the
// rest of that batch is still seen, the next batch is not fetched.
func TestReadWhile(t *testing.T) {
	ctx := context.Background()
	b := bustest.Open(t, bustest.Config(t))
	if _, err := b.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "TEST_READWHILE", Subjects: []string{"readwhile.>"}}); err != nil {
		t.Fatal(err)
	}
	const n = fetchBatch + 10
	for i := range n {
		if _, err := b.JS.Publish(ctx, fmt.Sprintf("readwhile.%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		stopAfter uint64 // fn returns false from this stream sequence on
		want      int    // messages handed to fn
	}{
		{"never stops", n + 1, n},
		{"stops in the first batch", 3, fetchBatch},
		{"stops in the second batch", fetchBatch + 2, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := 0
			err := ReadWhile(ctx, b.JS, "TEST_READWHILE", jetstream.OrderedConsumerConfig{}, 5*time.Second,
				func(_ jetstream.Msg, meta *jetstream.MsgMetadata) bool {
					seen++
					return meta.Sequence.Stream < tt.stopAfter
				})
			if err != nil {
				t.Fatal(err)
			}
			if seen != tt.want {
				t.Fatalf("fn saw %d messages, want %d", seen, tt.want)
			}
		})
	}
}
