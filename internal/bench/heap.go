package bench

import (
	"runtime"
	"sync"
	"time"
)

// HeapSampler records the highest runtime HeapAlloc seen while it runs.
type HeapSampler struct {
	quit, done chan struct{}
	mu         sync.Mutex
	peak       uint64
}

// StartHeapSampler samples the heap now and then every interval until Stop.
func StartHeapSampler(every time.Duration) *HeapSampler {
	h := &HeapSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			h.sample()
			select {
			case <-h.quit:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *HeapSampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.mu.Lock()
	h.peak = max(h.peak, m.HeapAlloc)
	h.mu.Unlock()
}

// Peak returns the highest HeapAlloc sampled so far, in bytes.
func (h *HeapSampler) Peak() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak
}

// Stop ends sampling, takes one last sample and returns the peak. Call it
// once.
func (h *HeapSampler) Stop() uint64 {
	close(h.quit)
	<-h.done
	h.sample()
	return h.Peak()
}
