package telemetry

import (
	"testing"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/bus"
)

var (
	_ bus.StorageObserver = StoreMetrics{}
	_ connectors.Observer = ConnectorMetrics{}
)

func TestStoreMetrics(t *testing.T) {
	tests := []struct {
		name              string
		used, limit       int64
		full              string
		wantUsed, wantLim float64
		wantFull          float64
	}{
		{"room", 1 << 20, 2 << 20, "", 1 << 20, 2 << 20, 0},
		{"store full", 2 << 20, 2 << 20, bus.FullStore, 2 << 20, 2 << 20, 1},
		{"ingest stream full is not the store", 1 << 20, -1, bus.FullStream, 1 << 20, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMetrics()
			if err != nil {
				t.Fatal(err)
			}
			StoreMetrics{M: m}.StoreUsage(tt.used, tt.limit, tt.full)
			for name, want := range map[string]float64{
				"switchboard_store_used_bytes":  tt.wantUsed,
				"switchboard_store_limit_bytes": tt.wantLim,
				"switchboard_store_full":        tt.wantFull,
			} {
				if got, ok := value(t, m, name); !ok || got != want {
					t.Errorf("%s = %v (%v), want %v", name, got, ok, want)
				}
			}
		})
	}
}

func TestIngestRefusedMetric(t *testing.T) {
	m, err := NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	c := ConnectorMetrics{M: m}
	c.Refused("web", bus.FullStore)
	c.Refused("web", bus.FullStore)
	c.Refused("email", bus.FullStream)
	for _, tt := range []struct {
		channel, reason string
		want            float64
	}{{"web", "store_full", 2}, {"email", "stream_full", 1}} {
		if got, _ := value(t, m, "switchboard_ingest_refused_total", "channel", tt.channel, "reason", tt.reason); got != tt.want {
			t.Errorf("%s/%s = %v, want %v", tt.channel, tt.reason, got, tt.want)
		}
	}
}
