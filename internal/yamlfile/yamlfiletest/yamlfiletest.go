// Package yamlfiletest holds the hostile YAML files that the daemon's
// readers must refuse cheaply, and a way to measure what refusing them
// allocates, for the tests of every package that reads a YAML file.
package yamlfiletest

import (
	"fmt"
	"runtime"
	"strings"
)

// AliasBomb is the "billion laughs" through a routes list: nine levels of
// nine aliases each, 9^9 routes once expanded, in about 600 bytes. head
// (ending in a newline, or empty) comes first; the bomb's first anchor,
// &a0, is on the line after it.
func AliasBomb(head string) string {
	var b strings.Builder
	b.WriteString(head + "routes:\n  - &a0 {id: x}\n")
	for i := 1; i < 9; i++ {
		aliases := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", ")
		fmt.Fprintf(&b, "  - &a%d {id: x, routes: [%s]}\n", i, aliases)
	}
	return b.String()
}

// FlowBomb is 80 KB of flow sequences nested 40,000 deep under routes,
// after head (ending in a newline, or empty).
func FlowBomb(head string) string {
	return head + "routes: " + strings.Repeat("[", 40000) + strings.Repeat("]", 40000) + "\n"
}

// Allocated reports the bytes f allocates on the heap.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
