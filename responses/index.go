package responses

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// instant is a time as Unix nanoseconds: the open set holds 100,000 items
// with several times each, and a time.Time carries a pointer the garbage
// collector would scan in every one.
type instant int64

func at(t time.Time) instant { return instant(t.UnixNano()) }

func (i instant) time() time.Time { return time.Unix(0, int64(i)).UTC() }

func instants(ts []time.Time) []instant {
	out := make([]instant, len(ts))
	for i, t := range ts {
		out[i] = at(t)
	}
	return out
}

// openItem is one routed item awaiting its first response, in memory.
type openItem struct {
	id, conv                string
	channel, kind, priority string
	created, routed         instant
	teams                   []teamState
	// forget is when the item leaves the open set unanswered.
	forget instant
	// next is the earliest of forget and the next due escalation; the
	// escalation loop looks at the item then.
	next instant
	// pos is the item's index in the due heap.
	pos int
}

// teamState is one team's service level for an item.
type teamState struct {
	team     string
	target   time.Duration
	calendar string
	// due holds when each escalation level is due (nil: no target).
	due []instant
	// escalated is the highest level escalated so far (0: none).
	escalated int
}

// nextDue returns when the item's next escalation is due, or 0.
func (it *openItem) nextDue() instant {
	var next instant
	for i := range it.teams {
		ts := &it.teams[i]
		if ts.escalated < len(ts.due) {
			if d := ts.due[ts.escalated]; next == 0 || d < next {
				next = d
			}
		}
	}
	return next
}

// schedule recomputes when the escalation loop looks at it next.
func (it *openItem) schedule() {
	it.next = it.forget
	if d := it.nextDue(); d != 0 && d < it.next {
		it.next = d
	}
}

// index is the open set: items by id, by conversation, and ordered by
// when they need attention. It is not safe for concurrent use; the tracker
// holds its lock.
type index struct {
	items map[string]*openItem
	convs map[string][]*openItem
	due   dueHeap
	// strs interns the few distinct channel, kind, priority and team
	// names, so that 100,000 items share them.
	strs map[string]string
}

func newIndex() *index {
	return &index{items: map[string]*openItem{}, convs: map[string][]*openItem{}, strs: map[string]string{}}
}

func (x *index) intern(s string) string {
	if v, ok := x.strs[s]; ok {
		return v
	}
	if len(x.strs) < 10_000 {
		x.strs[s] = s
	}
	return s
}

func (x *index) len() int { return len(x.items) }

func (x *index) get(id string) *openItem { return x.items[id] }

// put inserts it, replacing an item with the same id.
func (x *index) put(it *openItem) {
	if old := x.items[it.id]; old != nil {
		x.remove(old.id)
	}
	it.channel, it.kind, it.priority = x.intern(it.channel), x.intern(it.kind), x.intern(it.priority)
	for i := range it.teams {
		it.teams[i].team = x.intern(it.teams[i].team)
		it.teams[i].calendar = x.intern(it.teams[i].calendar)
	}
	it.schedule()
	x.items[it.id] = it
	x.convs[it.conv] = append(x.convs[it.conv], it)
	heap.Push(&x.due, it)
}

// remove takes the item id out of the open set and returns it (nil when it
// was not open).
func (x *index) remove(id string) *openItem {
	it := x.items[id]
	if it == nil {
		return nil
	}
	delete(x.items, id)
	conv := slices.DeleteFunc(x.convs[it.conv], func(o *openItem) bool { return o == it })
	if len(conv) == 0 {
		delete(x.convs, it.conv)
	} else {
		x.convs[it.conv] = conv
	}
	heap.Remove(&x.due, it.pos)
	return it
}

// rescheduled puts it back in order after its escalations changed.
func (x *index) rescheduled(it *openItem) {
	it.schedule()
	heap.Fix(&x.due, it.pos)
}

// conversation returns the open items of conversation conv created at or
// before at.
func (x *index) conversation(conv string, upTo time.Time) []*openItem {
	var out []*openItem
	limit := at(upTo)
	for _, it := range x.convs[conv] {
		if it.created <= limit {
			out = append(out, it)
		}
	}
	return out
}

// dueBy returns the items needing attention at now, earliest first (they
// stay in the set).
func (x *index) dueBy(nowTime time.Time, limit int) []*openItem {
	var out []*openItem
	now := at(nowTime)
	if len(x.due) == 0 {
		return nil
	}
	// Walk the heap's array in order of need without popping: a small
	// frontier of candidates ordered by next.
	frontier := []int{0}
	for len(frontier) > 0 && len(out) < limit {
		best := 0
		for i, p := range frontier {
			if x.due[p].next < x.due[frontier[best]].next {
				best = i
			}
		}
		p := frontier[best]
		frontier = slices.Delete(frontier, best, best+1)
		if x.due[p].next > now {
			continue
		}
		out = append(out, x.due[p])
		for _, c := range [2]int{2*p + 1, 2*p + 2} {
			if c < len(x.due) {
				frontier = append(frontier, c)
			}
		}
	}
	return out
}

// dueHeap orders items by next.
type dueHeap []*openItem

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].next < h[j].next }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *dueHeap) Push(v any) {
	it := v.(*openItem)
	it.pos = len(*h)
	*h = append(*h, it)
}
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	it.pos = -1
	return it
}

// key is the bucket key of an item: a hash, since envelope ids hold
// characters keys cannot.
func key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}
