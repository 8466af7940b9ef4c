//go:build !race

package examples

// raceEnabled: the race detector makes training ten times slower, so
// tests train fewer models under it.
const raceEnabled = false
