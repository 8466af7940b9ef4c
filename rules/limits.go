package rules

// Caps on what a rules file compiles to, so that no file that passes the
// YAML pre-scan (size, depth, no aliases) can make a reload take unbounded
// time or memory; the automaton's own cap is maxAutomatonCells. Each is far
// above what a hand-written file needs (the shipped one: 18 routes, 166
// words). docs/rules.md lists them.
const (
	// maxRoutes caps the routes of a file, at every depth together.
	maxRoutes = 10_000
	// maxTerms caps the distinct words and phrases of a file.
	maxTerms = 100_000
	// maxEntries caps the words all conditions hold together once
	// vocabularies are expanded: a vocabulary of 1,000 words used by 1,000
	// routes is a million entries.
	maxEntries = 1_000_000
	// maxRegexes caps the regular expressions of a file, and maxRegexBytes
	// the length of one: each regex runs on its own for every candidate item.
	maxRegexes    = 1_000
	maxRegexBytes = 1_000
)
