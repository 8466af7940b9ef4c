package facebook

import (
	"encoding/json"
	"fmt"
	"time"
)

// checkpointVersion is the layout version of checkpoint.
const checkpointVersion = 1

// checkpoint is one page's saved progress, one section per kind (the feed:
// visitor posts, comments, replies and page posts; and Messenger). It is the
// page connector's whole checkpoint in the KV store. See docs/facebook.md,
// "Polling".
type checkpoint struct {
	V        int        `json:"v"`
	Feed     *kindState `json:"feed,omitempty"`
	Messages *kindState `json:"messages,omitempty"`
}

// kindState is the progress of one kind.
type kindState struct {
	// Floor (unix seconds) is where the first poll started: nothing created
	// earlier is ingested.
	Floor int64 `json:"floor"`
	// Watermark (unix seconds, server time) is the start of the latest
	// complete pass: everything created before it has been read. The next
	// pass reads what changed since Watermark-overlap.
	Watermark int64 `json:"watermark"`
	// Seen holds the items already ingested (id → created_time, unix
	// seconds) that the next pass may return again: those created at or
	// after Watermark-overlap, and those of a pass that did not complete.
	Seen map[string]int64 `json:"seen,omitempty"`
}

// overlap is how far before the watermark each pass reads again. It absorbs
// the Graph API's eventual consistency, second-granular timestamps and clock
// differences; Seen keeps the re-read items from being ingested twice.
const overlap = 2 * time.Minute

// decodeCheckpoint reads a saved checkpoint; nil data is a first start.
func decodeCheckpoint(data []byte) (*checkpoint, error) {
	if len(data) == 0 {
		return &checkpoint{V: checkpointVersion}, nil
	}
	cp := &checkpoint{}
	if err := json.Unmarshal(data, cp); err != nil {
		return &checkpoint{V: checkpointVersion}, fmt.Errorf("unreadable checkpoint: %v", err)
	}
	if cp.V != checkpointVersion {
		return &checkpoint{V: checkpointVersion}, fmt.Errorf("checkpoint version %d is not %d", cp.V, checkpointVersion)
	}
	for _, s := range []*kindState{cp.Feed, cp.Messages} {
		if s != nil && s.Seen == nil {
			s.Seen = map[string]int64{}
		}
	}
	return cp, nil
}

func (cp *checkpoint) encode() []byte {
	b, err := json.Marshal(cp)
	if err != nil { // cannot happen: plain types only
		panic(fmt.Sprintf("encoding a facebook checkpoint: %v", err))
	}
	return b
}

// newKindState starts a kind without saved progress: its first pass reads
// back to floor.
func newKindState(floor time.Time) *kindState {
	return &kindState{Floor: floor.Unix(), Watermark: floor.Unix(), Seen: map[string]int64{}}
}

// since is where a pass starts: items created (or threads changed) before it
// were read by earlier passes.
func (s *kindState) since() int64 {
	return max(s.Floor, s.Watermark-int64(overlap/time.Second))
}

// isNew reports whether an item created at t is to be ingested: created
// within this pass's range and not ingested already.
func (s *kindState) isNew(id string, t time.Time) bool {
	if t.Unix() < s.since() {
		return false
	}
	_, seen := s.Seen[id]
	return !seen
}

// markSeen records that item id, created at t, was ingested.
func (s *kindState) markSeen(id string, t time.Time) {
	s.Seen[id] = t.Unix()
}

// complete ends a pass that started at start (server time): the watermark
// moves there and the items that the next pass can no longer return are
// forgotten.
func (s *kindState) complete(start time.Time) {
	if w := start.Unix(); w > s.Watermark {
		s.Watermark = w
	}
	lo := s.since()
	for id, t := range s.Seen {
		if t < lo {
			delete(s.Seen, id)
		}
	}
}
