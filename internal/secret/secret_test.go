package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("s3cret")
	out := fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s)
	b, err := json.Marshal(struct{ S Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	txt, _ := s.MarshalText()
	for _, got := range []string{out, string(b), string(txt)} {
		if strings.Contains(got, "s3cret") || !strings.Contains(got, Redacted) {
			t.Fatalf("secret printed: %s", got)
		}
	}
	if s.Reveal() != "s3cret" || Secret("").String() != "" {
		t.Fatal("Reveal or empty String wrong")
	}
}

func TestExpandEnv(t *testing.T) {
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"A": "x", "EMPTY": ""}[k]
		return v, ok
	}
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "x", ""},
		{"pre-${A}-post", "pre-x-post", ""},
		{"${B:-def}", "def", ""},
		{"${EMPTY:-def}", "def", ""},
		{"${EMPTY}", "", ""},
		{"$$A", "$A", ""},
		{"cost $5", "cost $5", ""},
		{"${B}", "", "B is not set"},
		{"${A", "", "unterminated"},
		{"${1A}", "", "invalid environment variable name"},
	}
	for _, tt := range tests {
		got, err := ExpandEnv(tt.in, lookup)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ExpandEnv(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ExpandEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tok")
	if err := os.WriteFile(file, []byte("  from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		value     Secret
		file      string
		want      Secret
		wantField string // "" when no error
	}{
		{"inline", "inline", "", "inline", ""},
		{"neither", "", "", "", ""},
		{"file, trimmed", "", file, "from-file", ""},
		{"both", "inline", file, "", "token"},
		{"missing file", "", filepath.Join(dir, "nope"), "", "token_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve("token", tt.value, tt.file)
			if tt.wantField == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Resolve = %q, %v; want %q", got.Reveal(), err, tt.want.Reveal())
				}
				return
			}
			var se *SourceError
			if !errors.As(err, &se) || se.Field != tt.wantField {
				t.Fatalf("err %v, want a SourceError for %s", err, tt.wantField)
			}
			if strings.Contains(err.Error(), "inline") || strings.Contains(err.Error(), "from-file") {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
}
