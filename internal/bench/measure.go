package bench

import (
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// Latency holds quantiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Quantiles returns p50, p90, p99 and the maximum of d in milliseconds
// (nearest rank); all zero for no durations.
func Quantiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return ms(s[max(i, 0)])
	}
	return Latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ClassifyCost is the cost of one classification.
type ClassifyCost struct {
	NsPerOp     float64 `json:"ns_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
}

// Classifier is what MeasureClassify times: *rules.Rules.
type Classifier interface {
	Classify(env *message.Envelope) rules.Decision
}

// MeasureClassify times c.Classify alone over envs on this goroutine (at
// least minTime of passes after one warm-up pass) and counts its
// allocations over one more pass with GOMAXPROCS 1, as
// testing.AllocsPerRun does.
func MeasureClassify(c Classifier, envs []*message.Envelope, minTime time.Duration) ClassifyCost {
	if len(envs) == 0 {
		return ClassifyCost{}
	}
	noise := 0
	for _, e := range envs {
		if c.Classify(e).Noise {
			noise++
		}
	}
	calls := 0
	start := time.Now()
	for calls == 0 || time.Since(start) < minTime {
		for _, e := range envs {
			if c.Classify(e).Noise {
				noise++
			}
		}
		calls += len(envs)
	}
	elapsed := time.Since(start)

	prev := runtime.GOMAXPROCS(1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, e := range envs {
		if c.Classify(e).Noise {
			noise++
		}
	}
	runtime.ReadMemStats(&after)
	runtime.GOMAXPROCS(prev)
	runtime.KeepAlive(noise)
	n := float64(len(envs))
	return ClassifyCost{
		NsPerOp:     float64(elapsed.Nanoseconds()) / float64(calls),
		AllocsPerOp: float64(after.Mallocs-before.Mallocs) / n,
		BytesPerOp:  float64(after.TotalAlloc-before.TotalAlloc) / n,
	}
}
