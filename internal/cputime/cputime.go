// Package cputime measures the CPU time of the calling OS thread, for
// benchmarks: on a shared machine the wall time includes waiting for a
// core, which the CPU time does not.
package cputime

import (
	"runtime"
	"testing"
	"time"
)

// Timer reports the CPU time per operation of a benchmark (metric
// cpu-ns/op). Call Start after setup, before the loop, and Stop after it;
// in between the goroutine is locked to its thread.
type Timer struct{ t0 time.Duration }

// Start locks the goroutine to its thread and notes the thread's CPU time.
func (c *Timer) Start() {
	runtime.LockOSThread()
	c.t0, _ = Thread()
}

// Stop reports the thread's CPU time since Start per operation of b, where
// it can be read, and unlocks the goroutine.
func (c *Timer) Stop(b *testing.B) {
	t1, ok := Thread()
	runtime.UnlockOSThread()
	if ok && b.N > 0 {
		b.ReportMetric(float64(t1-c.t0)/float64(b.N), "cpu-ns/op")
	}
}
