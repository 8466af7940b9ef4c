// Package rulestest holds test helpers shared by the rules packages.
package rulestest

import (
	"strings"
	"testing"
)

// WantProblems fails t unless err lists one problem a line, as many as
// want, each starting with the wanted text in the same order.
func WantProblems(t testing.TB, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d: %q, want prefix %q", i, lines[i], w)
		}
	}
}
