package telemetry

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegister(t *testing.T) {
	c := func() prometheus.Collector {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_test_things_total", Help: "Things."})
	}
	reg := prometheus.NewRegistry()
	tests := []struct {
		name string
		reg  prometheus.Registerer
		want string // "" for success
	}{
		{"registered", reg, ""},
		{"twice", reg, "registering test metrics: duplicate"},
		{"no registry", nil, "registering test metrics: no registry"},
	}
	for _, tt := range tests {
		err := Register(tt.reg, "test", c())
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Register = %v, want %q", tt.name, err, tt.want)
		}
	}
}
