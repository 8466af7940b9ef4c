package x

import (
	"sync"
	"time"
)

// Budget caps how many posts and DM events the X streams read: per UTC day
// over all streams, and per poll of one stream. Reads are reserved before a
// request (its max_results) and settled with what the page held, so
// concurrent streams never overspend. Safe for concurrent use.
type Budget struct {
	perDay, perPoll int
	now             func() time.Time
	onChange        func(remaining int)

	mu   sync.Mutex
	day  string
	used map[string]int // by stream, for the current day
}

// Reservation is reads reserved for one request.
type Reservation struct {
	// N is how many reads may be made (the request's max_results).
	N   int
	day string
}

// NewBudget returns a budget of perDay reads per UTC day and perPoll per poll.
func NewBudget(perDay, perPoll int, now func() time.Time) *Budget {
	if now == nil {
		now = time.Now
	}
	return &Budget{perDay: perDay, perPoll: perPoll, now: now, used: map[string]int{}}
}

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// roll starts a new day's count when the UTC date changed.
func (b *Budget) roll() {
	if d := dayOf(b.now()); d != b.day {
		b.day = d
		b.used = map[string]int{}
	}
}

func (b *Budget) total() int {
	n := 0
	for _, v := range b.used {
		n += v
	}
	return n
}

// Restore records reads a stream made earlier today (from its checkpoint),
// so a restart does not reset the day's budget.
func (b *Budget) Restore(stream, day string, reads int) {
	b.mu.Lock()
	b.roll()
	if day == b.day && reads > b.used[stream] {
		b.used[stream] = reads
	}
	rem := b.perDay - b.total()
	b.mu.Unlock()
	b.changed(rem)
}

// Reserve reserves up to want reads for a stream that already read
// pollUsed in this poll. It returns fewer (possibly zero) when the poll's or
// the day's budget is nearly spent.
func (b *Budget) Reserve(stream string, pollUsed, want int) Reservation {
	return b.ReserveKeeping(stream, pollUsed, want, 0)
}

// ReserveKeeping is Reserve for a stream that must leave keep reads of the
// day to the other streams.
func (b *Budget) ReserveKeeping(stream string, pollUsed, want, keep int) Reservation {
	b.mu.Lock()
	b.roll()
	n := min(want, b.perPoll-pollUsed, b.perDay-b.total()-keep)
	if n < 0 {
		n = 0
	}
	b.used[stream] += n
	r := Reservation{N: n, day: b.day}
	rem := b.perDay - b.total()
	b.mu.Unlock()
	b.changed(rem)
	return r
}

// Settle replaces a reservation by the reads actually made.
func (b *Budget) Settle(stream string, r Reservation, actual int) {
	b.mu.Lock()
	b.roll()
	if r.day == b.day {
		b.used[stream] += actual - r.N
		if b.used[stream] < 0 {
			b.used[stream] = 0
		}
	} else {
		b.used[stream] += actual // the reservation was yesterday's
	}
	rem := b.perDay - b.total()
	b.mu.Unlock()
	b.changed(rem)
}

// Used returns the day and a stream's reads that day, for its checkpoint.
func (b *Budget) Used(stream string) (day string, reads int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	return b.day, b.used[stream]
}

// Remaining returns the reads left today over all streams.
func (b *Budget) Remaining() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll()
	return max(0, b.perDay-b.total())
}

// PerDay and PerPoll return the limits.
func (b *Budget) PerDay() int { return b.perDay }

// PerPoll returns the per-poll limit.
func (b *Budget) PerPoll() int { return b.perPoll }

// ResetsAt returns when the day's budget starts over (next UTC midnight).
func (b *Budget) ResetsAt() time.Time {
	now := b.now().UTC()
	return time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
}

func (b *Budget) changed(remaining int) {
	if b.onChange != nil {
		b.onChange(max(0, remaining))
	}
}
