package message

import "testing"

func TestExcerpt(t *testing.T) {
	for _, tt := range []struct {
		subject, text string
		max           int
		want          string
	}{
		{"", "Hei", 10, "Hei"},
		{"Lasku", "on\n\tväärin ", 20, "Lasku on väärin"},
		{"", "  paketti ei tullut", 10, "paketti ei…"},
		{"Äö", "", 2, "Äö"},
	} {
		if got := Excerpt(tt.subject, tt.text, tt.max); got != tt.want {
			t.Errorf("Excerpt(%q, %q, %d) = %q, want %q", tt.subject, tt.text, tt.max, got, tt.want)
		}
	}
}
