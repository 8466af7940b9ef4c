package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/yamlfile/yamlfiletest"
)

// TestHostileConfigIsRefusedCheaply: an alias bomb, deeply nested flow
// sequences and an oversized file are refused with a positioned error
// before the YAML library expands anything (issue 17 item 3).
func TestHostileConfigIsRefusedCheaply(t *testing.T) {
	bomb := "log: &a0 {level: info}\n"
	for i := 1; i < 9; i++ {
		bomb += fmt.Sprintf("x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	tests := []struct {
		name, data, want string
	}{
		{"alias bomb", bomb, `c.yaml:1:6: "&a0" is an anchor: YAML anchors (&name) and aliases (*name) are not accepted here; write the value out in full where it is needed`},
		{"nested flow", "log: " + strings.Repeat("[", 40000) + strings.Repeat("]", 40000) + "\n", "c.yaml:1:"},
		{"too big", "# " + strings.Repeat("x", 1<<20) + "\n", "c.yaml: the file is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.data)
			var err error
			n := yamlfiletest.Allocated(func() { _, err = Parse("c.yaml", data, noEnv) })
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %.300v, want prefix %q", err, tt.want)
			}
			if n > 1<<20 {
				t.Fatalf("refusing it allocated %d bytes, want under 1 MiB", n)
			}
		})
	}
}
