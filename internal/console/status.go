package console

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// ReloadLog remembers the outcome of the last rules reload for the
// overview. Its Reloaded fits rules.WatchOptions.OnResult. Safe for
// concurrent use; the zero value is ready.
type ReloadLog struct {
	mu   sync.Mutex
	last Reload
}

// Reload is one reload attempt.
type Reload struct {
	// At is when it happened; zero: no reload since the daemon started.
	At time.Time
	// OK says the file was taken; Version is the version now in force
	// (OK) or of the rejected content.
	OK      bool
	Version string
	// Problems are the reasons a file was rejected, one FILE:LINE:COL line
	// each.
	Problems []string
}

// Reloaded records a reload attempt.
func (l *ReloadLog) Reloaded(ok bool, version string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := Reload{At: time.Now(), OK: ok, Version: version}
	if err != nil {
		r.Problems = problemLines(err)
	}
	l.last = r
}

// Last returns the last reload attempt.
func (l *ReloadLog) Last() Reload {
	if l == nil {
		return Reload{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// problemLines splits a rules error into its lines (a yamlfile.List has
// one per problem).
func problemLines(err error) []string {
	if list, ok := err.(yamlfile.List); ok {
		out := make([]string, 0, len(list))
		for _, e := range list {
			out = append(out, e.Error())
		}
		return out
	}
	return strings.Split(strings.TrimSpace(err.Error()), "\n")
}

// StorageUsage is how full the store is.
type StorageUsage struct {
	// Used and Limit are the JetStream account's stored bytes and its cap
	// (0 or less: none).
	Used, Limit int64
	// Streams are the streams' sizes and caps, by name.
	Streams []StreamUsage
	// DeadLetters is how many dead letters wait (nil: unknown).
	DeadLetters *uint64
}

// StreamUsage is one stream's size.
type StreamUsage struct {
	Name string
	// Msgs and Bytes are what it holds; MaxBytes its cap (0 or less: none).
	Msgs          uint64
	Bytes         uint64
	MaxBytes      int64
	FirstAt, Last time.Time
}

// Full reports whether used is at or above 90% of a cap.
func full(used, limit int64) bool { return limit > 0 && used*10 >= limit*9 }

// JetStreamStorage reads usage from JetStream.
type JetStreamStorage struct {
	JS jetstream.JetStream
	// Streams are the streams to report, by name.
	Streams []string
	// DeadStream is the dead-letter stream, whose count the overview shows.
	DeadStream string
}

// Usage implements Storage.
func (j JetStreamStorage) Usage(ctx context.Context) (StorageUsage, error) {
	var u StorageUsage
	ai, err := j.JS.AccountInfo(ctx)
	if err != nil {
		return u, fmt.Errorf("reading JetStream account usage: %w", err)
	}
	u.Used, u.Limit = int64(ai.Store), ai.Limits.MaxStore
	for _, name := range j.Streams {
		st, err := j.JS.Stream(ctx, name)
		if err != nil {
			return u, fmt.Errorf("reading stream %s: %w", name, err)
		}
		info := st.CachedInfo()
		u.Streams = append(u.Streams, StreamUsage{
			Name: name, Msgs: info.State.Msgs, Bytes: info.State.Bytes, MaxBytes: info.Config.MaxBytes,
			FirstAt: info.State.FirstTime, Last: info.State.LastTime,
		})
		if name == j.DeadStream {
			n := info.State.Msgs
			u.DeadLetters = &n
		}
	}
	return u, nil
}
