package facebook

import (
	"encoding/json"
	"fmt"
	"time"
)

// checkpointVersion is the layout version of checkpoint. Version 1 had only
// the feed and messages sections and relied on since following updated_time;
// it is migrated on load (migrateV1).
const checkpointVersion = 2

// checkpoint is one page's saved progress. It is the page connector's whole
// checkpoint in the KV store. See docs/facebook.md, "Polling".
type checkpoint struct {
	V int `json:"v"`
	// Feed: the page's posts, and the comments on the posts in the watch
	// window. Its watermark also anchors the window (feedFrom).
	Feed *kindState `json:"feed,omitempty"`
	// Messages: Messenger.
	Messages *kindState `json:"messages,omitempty"`
	// Sweep: the comments on posts older than the watch window, read by the
	// slower sweep.
	Sweep *kindState `json:"sweep,omitempty"`
	// Posts are the watched posts that have comments, with what the last
	// complete read of their comments saw.
	Posts map[string]postMark `json:"posts,omitempty"`
	// Left holds posts that left the watch window since the last sweep
	// (post id → the feed watermark up to which regular passes read their
	// comments); the sweep reads on from there.
	Left map[string]int64 `json:"left,omitempty"`
	// LeftSeen keeps the feed's Seen entries of the passes in which posts
	// left (id → created_time): the sweep reads a post that left from its
	// Left watermark minus the overlap, and must not take again what the
	// feed pass took in that overlap.
	LeftSeen map[string]int64 `json:"left_seen,omitempty"`
	// Recover (unix seconds), when set, makes the next complete feed pass
	// read comments back to it: the migration from version 1 sets it so that
	// comments the old polling missed are read once (within the ingest
	// stream's duplicate window, so nothing stored is stored twice).
	Recover int64 `json:"recover,omitempty"`
}

// postMark is what the connector remembers of a watched post.
type postMark struct {
	// Created is the post's created_time (unix seconds).
	Created int64 `json:"c"`
	// Count is the comments summary's total_count at the last complete
	// read of the post's comments.
	Count int `json:"n"`
}

// kindState is the progress of one kind.
type kindState struct {
	// Floor (unix seconds) is where the first poll started: nothing created
	// earlier is ingested.
	Floor int64 `json:"floor"`
	// Watermark (unix seconds, server time) is the start of the latest
	// complete pass: everything created before it has been read. The next
	// pass reads what was created since Watermark-overlap.
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

// recoverBack is how far back the migration from checkpoint version 1 reads
// comments again: less than the ingest stream's smallest duplicate window
// (24h, enforced by the configuration), so that a comment the old polling
// did store is dropped as a duplicate, never stored twice.
const recoverBack = 23 * time.Hour

// maxLeft bounds Left (posts leaving the window between two sweeps).
const maxLeft = 20000

// decodeCheckpoint reads a saved checkpoint; nil data is a first start. now
// is the current time, for the migration of an older layout.
func decodeCheckpoint(data []byte, now time.Time) (*checkpoint, error) {
	if len(data) == 0 {
		return &checkpoint{V: checkpointVersion}, nil
	}
	cp := &checkpoint{}
	if err := json.Unmarshal(data, cp); err != nil {
		return &checkpoint{V: checkpointVersion}, fmt.Errorf("unreadable checkpoint: %v", err)
	}
	switch cp.V {
	case checkpointVersion:
	case 1:
		cp.migrateV1(now)
	default:
		return &checkpoint{V: checkpointVersion}, fmt.Errorf("checkpoint version %d is not %d", cp.V, checkpointVersion)
	}
	for _, s := range []*kindState{cp.Feed, cp.Messages, cp.Sweep} {
		if s != nil && s.Seen == nil {
			s.Seen = map[string]int64{}
		}
	}
	return cp, nil
}

// migrateV1 turns a version 1 checkpoint into this layout. Its feed and
// Messenger progress stay as they were: nothing read before is read as new.
// Version 1 found new comments only on posts that since returned, so it may
// have missed comments on older posts; those of the last recoverBack are
// read once more (Recover, and a sweep starting there), and the ingest
// stream's dedup drops the ones it did store.
func (cp *checkpoint) migrateV1(now time.Time) {
	cp.V = checkpointVersion
	if cp.Feed == nil {
		return
	}
	from := max(cp.Feed.Floor, now.Add(-recoverBack).Unix())
	if from < cp.Feed.since() {
		cp.Recover = from
	}
	// The sweep reads comments on older posts from the same point, or from
	// where version 1 stopped when that is earlier (a daemon that was down).
	from = min(from, cp.Feed.since())
	cp.Sweep = &kindState{Floor: from, Watermark: from, Seen: map[string]int64{}}
}

func (cp *checkpoint) encode() []byte {
	b, err := json.Marshal(cp)
	if err != nil { // cannot happen: plain types only
		panic(fmt.Sprintf("encoding a facebook checkpoint: %v", err))
	}
	return b
}

// commentsFrom is where the feed pass starts reading comments on watched
// posts: the feed's since, or the migration's recovery point before it.
func (cp *checkpoint) commentsFrom() int64 {
	if cp.Recover != 0 {
		return min(cp.Feed.since(), max(cp.Feed.Floor, cp.Recover))
	}
	return cp.Feed.since()
}

// feedFrom is the oldest created_time of a watched post: the window reaches
// back from the previous pass (not from now), so that a post leaving the
// window while polls failed is still read once up to the pass that
// completes.
func (cp *checkpoint) feedFrom(window time.Duration) int64 {
	return cp.Feed.Watermark - int64((overlap+window)/time.Second)
}

// completeFeed ends a complete feed pass that started at start and watched
// the posts in watched. Posts that the next pass no longer watches move to
// Left with the watermark their comments were read to; marks of posts that
// were not returned are dropped (their next read is a full one).
func (cp *checkpoint) completeFeed(start time.Time, window time.Duration, watched map[string]bool) {
	cp.Feed.complete(start)
	cp.Recover = 0
	from := cp.feedFrom(window)
	left := false
	for id, m := range cp.Posts {
		switch {
		case !watched[id]:
			delete(cp.Posts, id)
		case m.Created < from:
			if cp.Left == nil {
				cp.Left = map[string]int64{}
			}
			if len(cp.Left) < maxLeft {
				cp.Left[id] = cp.Feed.Watermark
				left = true
			}
			delete(cp.Posts, id)
		}
	}
	if left {
		if cp.LeftSeen == nil {
			cp.LeftSeen = map[string]int64{}
		}
		for id, t := range cp.Feed.Seen {
			cp.LeftSeen[id] = t
		}
	}
}

// completeSweep ends a complete sweep that started at start: the posts that
// left the window before it are covered from now on by the sweep's own
// watermark.
func (cp *checkpoint) completeSweep(start time.Time) {
	cp.Sweep.complete(start)
	for id, w := range cp.Left {
		if w <= cp.Sweep.Watermark {
			delete(cp.Left, id)
		}
	}
	for id, t := range cp.LeftSeen {
		if t < cp.Sweep.since() {
			delete(cp.LeftSeen, id)
		}
	}
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
	return s.isNewFrom(id, t, s.since())
}

// isNewFrom is isNew with the pass starting at from instead of since.
func (s *kindState) isNewFrom(id string, t time.Time, from int64) bool {
	if t.Unix() < from {
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
