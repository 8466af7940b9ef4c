//go:build !linux

package cputime

import "time"

// Thread returns the CPU time the calling OS thread has used, or false
// where that cannot be read: here it cannot.
func Thread() (time.Duration, bool) { return 0, false }
