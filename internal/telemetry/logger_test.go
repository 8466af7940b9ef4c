package telemetry

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewLoggerFormats(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tests := []struct {
		name, format string
		json         bool
	}{
		{"json", "json", true},
		{"console", "console", false},
		{"auto into a buffer", "auto", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := NewLogger(tt.format, "info", &buf)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("hello")
			if got := strings.HasPrefix(buf.String(), "{"); got != tt.json {
				t.Fatalf("%s wrote %q; want JSON %v", tt.format, buf.String(), tt.json)
			}
		})
	}
	if isTerminal(file) {
		t.Error("a regular file is not a terminal")
	}
	if _, err := NewLogger("xml", "info", nil); err == nil || !strings.Contains(err.Error(), "use auto, json or console") {
		t.Errorf("bad format: %v", err)
	}
}
