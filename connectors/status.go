package connectors

import (
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/secret"
)

// State is a connector's lifecycle state.
type State string

// Connector states shown in GET /v1/connectors.
const (
	StateStarting     State = "starting"
	StateRunning      State = "running"
	StateBackingOff   State = "backing_off"
	StateUnauthorized State = "unauthorized"
	// StatePaused: the backbone refused to store what the connector
	// publishes (store or ingest stream full); Status.Paused says which.
	// It resumes from its checkpoint once there is room; not a failure.
	StatePaused  State = "paused"
	StateStopped State = "stopped"
)

// AllStates lists every state, for metrics.
func AllStates() []State {
	return []State{StateStarting, StateRunning, StateBackingOff, StateUnauthorized, StatePaused, StateStopped}
}

// Status is a snapshot of one connector.
type Status struct {
	Name          string     `json:"name"`
	State         State      `json:"state"`
	Paused        string     `json:"paused,omitempty"` // why, while State is paused: "store full" or "stream full"
	LastSuccess   *time.Time `json:"last_success,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastErrorAt   *time.Time `json:"last_error_at,omitempty"`
	Ingested      uint64     `json:"items_ingested"`
	Duplicates    uint64     `json:"duplicates"`
	Restarts      uint64     `json:"restarts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	Checkpoint    string     `json:"checkpoint,omitempty"`
	CheckpointAt  *time.Time `json:"checkpoint_at,omitempty"`
}

// status is the live, locked version of Status.
type status struct {
	mu sync.Mutex
	s  Status
	// red scrubs every secret from an error before it is stored: a status
	// is served by GET /v1/connectors.
	red      *secret.Redactor
	onChange func(name string, from, to State)
	onIngest func(channel string, duplicate bool)
	onRefuse func(channel, why string)
}

func (st *status) snapshot() Status {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s
}

func (st *status) setState(s State) {
	st.mu.Lock()
	from := st.s.State
	st.s.State = s
	if s != StateBackingOff && s != StateUnauthorized && s != StatePaused {
		st.s.NextAttemptAt = nil
	}
	if s != StatePaused {
		st.s.Paused = ""
	}
	st.mu.Unlock()
	if from != s && st.onChange != nil {
		st.onChange(st.s.Name, from, s)
	}
}

func (st *status) published(channel string, dup bool, now time.Time) {
	st.mu.Lock()
	if dup {
		st.s.Duplicates++
	} else {
		st.s.Ingested++
	}
	t := now.UTC()
	st.s.LastSuccess = &t
	st.mu.Unlock()
	if st.onIngest != nil {
		st.onIngest(channel, dup)
	}
}

func (st *status) checkpointed(cp string, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(cp) > 512 {
		cp = cp[:512] + "…"
	}
	t := now.UTC()
	st.s.Checkpoint, st.s.CheckpointAt = cp, &t
}

func (st *status) succeeded(now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := now.UTC()
	st.s.LastSuccess = &t
}

func (st *status) failed(err error, now time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := now.UTC()
	st.s.LastError, st.s.LastErrorAt = st.red.Scrub(err.Error()), &t
}
