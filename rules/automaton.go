package rules

import "fmt"

// maxAutomatonCells bounds the transition table (4 bytes a cell): a rules
// file whose words would need more is refused rather than eating the
// daemon's memory. 10,000 keyword routes need about 6 million cells.
const maxAutomatonCells = 64 << 20

// automaton is an Aho-Corasick automaton over bytes, compiled to a DFA on
// byte classes: scanning costs one table lookup per haystack byte, whatever
// the number of patterns, reports every (overlapping) occurrence, and
// allocates nothing.
//
// github.com/petar-dambovaliev/aho-corasick was the starting point; this
// one exists because that library allocates a Match per hit and an iterator
// per scan, and its whole-word and leftmost modes miss overlapping matches
// (its issues #12 and #14). Whole words are handled here by the haystack's
// separators instead (see patterns).
type automaton struct {
	// class maps a byte to its column; bytes no pattern uses share column 0.
	class  [256]uint8
	nclass int
	// delta[s*nclass+class] is the next state, premultiplied (t*nclass) and
	// with outFlag set when patterns end there or on its failure chain, so
	// that the scan loop needs neither a multiply nor a second lookup.
	// State 0 is the root.
	delta []int32
	// report[s] is the first state on s's failure chain (s included) where
	// a pattern ends, or -1.
	report []int32
	// next[s], for a state where patterns end, is the next such state on
	// its failure chain, or -1.
	next []int32
	// ends[s] lists the patterns ending at state s: outs[ends[s]:ends[s+1]].
	ends []int32
	outs []int32
}

// buildAutomaton compiles patterns (distinct, non-empty); pattern i is
// reported as i.
func buildAutomaton(patterns []string) (*automaton, error) {
	a := &automaton{}
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	a.nclass = 1
	for b := range 256 {
		if used[b] {
			a.class[b] = uint8(a.nclass)
			a.nclass++
		}
	}
	if a.nclass > 256 {
		// 255 used bytes plus the unused column: cannot happen with UTF-8
		// text (0xC0, 0xC1 and 0xF5-0xFF never occur), but stay exact.
		return nil, fmt.Errorf("patterns use every byte value")
	}
	nc := a.nclass

	// The trie, with sparse children while building.
	type edge struct {
		class uint8
		to    int32
	}
	children := [][]edge{nil}
	endsAt := [][]int32{nil}
	child := func(s int32, c uint8) int32 {
		for _, e := range children[s] {
			if e.class == c {
				return e.to
			}
		}
		return -1
	}
	for id, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			t := child(s, c)
			if t < 0 {
				t = int32(len(children))
				children = append(children, nil)
				endsAt = append(endsAt, nil)
				children[s] = append(children[s], edge{c, t})
			}
			s = t
		}
		endsAt[s] = append(endsAt[s], int32(id))
	}
	n := len(children)
	if n*nc > maxAutomatonCells {
		return nil, fmt.Errorf("the rules' words and phrases need %d automaton states of %d columns, more than the limit of %d cells; use fewer or shorter words (or vocabularies shared between routes)", n, nc, maxAutomatonCells)
	}

	a.delta = make([]int32, n*nc)
	fail := make([]int32, n)
	a.report = make([]int32, n)
	a.next = make([]int32, n)
	order := make([]int32, 0, n)
	// Root: missing transitions stay at the root (the table is zeroed).
	for _, e := range children[0] {
		a.delta[int(e.class)] = e.to
		fail[e.to] = 0
		order = append(order, e.to)
	}
	for q := 0; q < len(order); q++ {
		s := order[q]
		row := int(s) * nc
		frow := int(fail[s]) * nc
		copy(a.delta[row:row+nc], a.delta[frow:frow+nc])
		for _, e := range children[s] {
			fail[e.to] = a.delta[frow+int(e.class)]
			a.delta[row+int(e.class)] = e.to
			order = append(order, e.to)
		}
	}
	// Outputs: BFS order guarantees a state's failure target is done first.
	a.report[0], a.next[0] = -1, -1
	for _, s := range order {
		a.next[s] = a.report[fail[s]]
		if len(endsAt[s]) > 0 {
			a.report[s] = s
		} else {
			a.report[s] = a.next[s]
		}
	}
	// Premultiply and flag the transitions.
	for i, t := range a.delta {
		v := t * int32(nc)
		if a.report[t] >= 0 {
			v |= outFlag
		}
		a.delta[i] = v
	}
	a.ends = make([]int32, n+1)
	for s := range n {
		a.ends[s+1] = a.ends[s] + int32(len(endsAt[s]))
		a.outs = append(a.outs, endsAt[s]...)
	}
	return a, nil
}

// states is the number of states, for size reports.
func (a *automaton) states() int { return len(a.report) }

// scan reports every occurrence of every pattern in hay as hit(pattern,
// end), end being the index just past the occurrence.
func (a *automaton) scan(hay []byte, h hitter) {
	nc := int32(a.nclass)
	delta, class := a.delta, &a.class
	s := int32(0)
	for i, b := range hay {
		s = delta[s&^outFlag+int32(class[b])]
		if s < 0 {
			for r := a.report[(s&^outFlag)/nc]; r >= 0; r = a.next[r] {
				for _, p := range a.outs[a.ends[r]:a.ends[r+1]] {
					h.hit(p, i+1)
				}
			}
		}
	}
}

// outFlag marks a delta entry whose target state reports matches.
const outFlag = -1 << 31

// hitter receives the automaton's matches.
type hitter interface {
	hit(pattern int32, end int)
}
