package decisions

import "sync"

// OnChange calls fn with every record this store writes, after it is
// stored, until the returned cancel is called. It is how a component in
// the same process follows record changes without reading the stream back
// (the response tracker): fn runs in the writer's goroutine, so it must be
// quick and must not write records itself. Records written by other
// processes are not seen; read the stream (Scan) for those.
func (s *Store) OnChange(fn func(*Record)) (cancel func()) {
	return s.observers.add(fn)
}

// observers are the functions OnChange registered.
type observers struct {
	mu   sync.RWMutex
	next int
	fns  map[int]func(*Record)
}

func (o *observers) add(fn func(*Record)) func() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fns == nil {
		o.fns = map[int]func(*Record){}
	}
	id := o.next
	o.next++
	o.fns[id] = fn
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		delete(o.fns, id)
	}
}

func (o *observers) notify(r *Record) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, fn := range o.fns {
		fn(r)
	}
}
