package email

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextSinkNormalises(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"line breaks and controls", "rivi 1  \r\nrivi\u00a02\r\r\n\x00\x1b[31mväri\u200b\n\t sisennys\n\u0080 euro", "rivi 1\nrivi 2\n\n[31mväri\n\t sisennys\n€ euro"},
		{"leading and trailing white space", " \n\t\u3000 teksti \n\n ", "teksti"},
		{"blank lines inside are kept", "a\n\n\nb", "a\n\n\nb"},
		{"white-space-only lines become empty", "a\n \t \nb", "a\n\nb"},
		{"invalid UTF-8 run is one replacement", "a\xff\xfe\xfdb", "a\uFFFDb"},
		{"byte order mark dropped", "\ufeffalku", "alku"},
		{"lone CR is a line break", "a\rb", "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTextSink(1 << 10)
			w.WriteString(tt.in)
			if got := w.String(); got != tt.want || w.full() {
				t.Fatalf("sink(%q) = %q (full %v), want %q", tt.in, got, w.full(), tt.want)
			}
		})
	}
}

// TestTextSinkLimit: the sink never holds more than its limit, cuts on a
// character boundary with "…", and does not count white space that is
// dropped anyway.
func TestTextSinkLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		in    []string // written one after the other
		want  string
		full  bool
	}{
		{"fits exactly", 5, []string{"abcde"}, "abcde", false},
		{"one byte over", 5, []string{"abcdef"}, "ab…", true},
		{"cut on a character boundary", 6, []string{"ääää"}, "ä…", true},
		{"trailing white space is not counted", 5, []string{"abcde", "   \n\n  "}, "abcde", false},
		{"pending line breaks count once text follows", 6, []string{"abc", "\n\n\n", "d"}, "abc…", true},
		{"huge white space run before text", 8, []string{"a", strings.Repeat(" ", 1000), "b"}, "a…", true},
		{"writes after full are ignored", 4, []string{"abcdefgh", "ijk"}, "a…", true},
		{"limit below the ellipsis", 2, []string{"abc"}, "", true},
		{"zero limit", 0, []string{"a"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTextSink(tt.limit)
			for _, s := range tt.in {
				w.WriteString(s)
			}
			got := w.String()
			if got != tt.want || w.full() != tt.full {
				t.Fatalf("got %q (full %v), want %q (full %v)", got, w.full(), tt.want, tt.full)
			}
			if len(got) > tt.limit || !utf8.ValidString(got) {
				t.Fatalf("%q: %d bytes for a limit of %d", got, len(got), tt.limit)
			}
		})
	}
}
