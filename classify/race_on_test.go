//go:build race

package classify

// raceEnabled: the race detector makes training ~10 times slower; the
// measurements skip and the heaviest checks train on less.
const raceEnabled = true
