package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/secret"
)

type stringer string

func (s stringer) String() string { return "stringer " + string(s) }

func TestRedactScrubsEveryField(t *testing.T) {
	const pw = `hunter"2`
	red := secret.NewRedactor()
	red.Add(pw)
	for _, format := range []string{"json", "console"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			base, err := NewLogger(format, "debug", &buf)
			if err != nil {
				t.Fatal(err)
			}
			log := Redact(base, red).With(zap.String("carried", "with "+pw)).Named("n")
			tests := []struct {
				name  string
				field zap.Field
			}{
				{"string", zap.String("s", "a "+pw+" b")},
				{"error", zap.Error(fmt.Errorf("login: %w", errors.New(`T1 NO LOGIN "u" "hunter\"2"`)))},
				{"strings", zap.Strings("list", []string{"x", pw})},
				{"stringer", zap.Stringer("st", stringer(pw))},
				{"bytes", zap.ByteString("b", []byte(pw))},
				{"struct", zap.Any("obj", struct{ Detail string }{Detail: pw})},
				{"map", zap.Any("m", map[string]string{"k": pw})},
			}
			for _, tt := range tests {
				buf.Reset()
				log.Warn("message with "+pw, tt.field)
				out := buf.String()
				if strings.Contains(out, "hunter") || !strings.Contains(out, secret.Redacted) {
					t.Errorf("%s: secret in the log line: %s", tt.name, out)
				}
			}
			buf.Reset()
			log.Info("plain", zap.Int("n", 7), zap.Bool("ok", true), zap.String("who", "maija"))
			if out := buf.String(); !strings.Contains(out, "maija") || !strings.Contains(out, "7") || strings.Count(out, secret.Redacted) != 1 {
				t.Errorf("clean fields changed (only the carried field holds a secret): %s", out)
			}
		})
	}
}

func TestRedactKeepsLevel(t *testing.T) {
	var buf bytes.Buffer
	base, err := NewLogger("json", "warn", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log := Redact(base, secret.NewRedactor())
	log.Info("hidden")
	log.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
		t.Fatalf("levels not kept: %s", out)
	}
}
