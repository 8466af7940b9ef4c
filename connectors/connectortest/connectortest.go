// Package connectortest gives connector tests in-memory stand-ins for the
// ingest stream and the checkpoint bucket that behave like the real ones:
// envelopes are validated and deduplicated by id, checkpoints are copied.
// For tests on embedded JetStream it also reads the real ingest stream.
package connectortest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/switchboard/switchboard/internal/message"
)

// deduped keeps what was published in publish order, each id once, as a
// stream's duplicate window does.
type deduped[T interface{ Validate() error }] struct {
	items []T
	seen  map[string]bool
}

// add stores item under id unless id was stored before, and reports
// whether it was. An invalid item is an error; what names its kind in it
// ("envelope", "response").
func (d *deduped[T]) add(what, id string, item T) (duplicate bool, err error) {
	if err := item.Validate(); err != nil {
		return false, fmt.Errorf("invalid %s %s: %w", what, id, err)
	}
	if d.seen[id] {
		return true, nil
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[id] = true
	d.items = append(d.items, item)
	return false, nil
}

// Publisher is an in-memory connectors.Publisher.
type Publisher struct {
	mu       sync.Mutex
	envs     deduped[*message.Envelope]
	attempts int
	fail     error
}

// Fail makes every later publish fail with err (nil: succeed again).
func (p *Publisher) Fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = err
}

// PublishIngest stores env unless its id was stored before, as the ingest
// stream's duplicate window does. An invalid envelope is an error.
func (p *Publisher) PublishIngest(_ context.Context, env *message.Envelope) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts++
	if p.fail != nil {
		return false, p.fail
	}
	return p.envs.add("envelope", env.ID, env)
}

// Envelopes returns the stored envelopes in publish order.
func (p *Publisher) Envelopes() []*message.Envelope {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.envs.items)
}

// SourceIDs returns the stored envelopes' source ids in publish order.
func (p *Publisher) SourceIDs() []string {
	var out []string
	for _, e := range p.Envelopes() {
		out = append(out, e.SourceID)
	}
	return out
}

// BySourceID returns the stored envelope with that source id, or nil.
func (p *Publisher) BySourceID(id string) *message.Envelope {
	for _, e := range p.Envelopes() {
		if e.SourceID == id {
			return e
		}
	}
	return nil
}

// Attempts counts every publish call, duplicates and failures included.
func (p *Publisher) Attempts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts
}

// Store is an in-memory connectors.CheckpointStore.
type Store struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Load returns a copy of the checkpoint saved for name, or nil.
func (s *Store) Load(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.m[name]), nil
}

// Save keeps a copy of checkpoint for name.
func (s *Store) Save(_ context.Context, name string, checkpoint []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[name] = slices.Clone(checkpoint)
	return nil
}

// Responses is an in-memory connectors.ResponsePublisher: responses are
// validated and deduplicated by id, as the responses stream does.
type Responses struct {
	mu sync.Mutex
	rs deduped[*message.Response]
}

// Publish stores r unless its id was stored before; an invalid response is
// an error.
func (p *Responses) Publish(_ context.Context, r *message.Response) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Version == 0 {
		r.Version = message.SchemaVersion
	}
	return p.rs.add("response", r.ID, r)
}

// All returns the stored responses in publish order.
func (p *Responses) All() []*message.Response {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.rs.items)
}
