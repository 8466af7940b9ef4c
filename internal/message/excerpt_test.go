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

// TestCutAndClip: Cut keeps whole runes within n bytes; Clip does the
// same and marks the cut with an ellipsis, and leaves a short s alone.
func TestCutAndClip(t *testing.T) {
	for _, tt := range []struct {
		s         string
		n         int
		cut, clip string
	}{
		{"Hei", 10, "Hei", "Hei"},
		{"Hei", 3, "Hei", "Hei"},
		{"Hei!", 3, "Hei", "Hei…"},
		{"väärin", 2, "v", "v…"}, // "ä" is two bytes: not split
		{"väärin", 3, "vä", "vä…"},
		{"äääää", 3, "ä", "ä…"},
		{"ä", 0, "", "…"},
		{"", 0, "", ""},
	} {
		if got := Cut(tt.s, tt.n); got != tt.cut {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.cut)
		}
		if got := Clip(tt.s, tt.n); got != tt.clip {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.clip)
		}
	}
}

func TestDigits(t *testing.T) {
	for _, tt := range []struct {
		s    string
		max  int
		want bool
	}{
		{"1869205558311475", 19, true},
		{"0", 1, true},
		{"", 19, false},
		{"12345", 4, false},
		{"12a4", 19, false},
		{"١٢٣", 19, false}, // Arabic-Indic digits are not ASCII digits
		{"-12", 19, false},
	} {
		if got := Digits(tt.s, tt.max); got != tt.want {
			t.Errorf("Digits(%q, %d) = %v, want %v", tt.s, tt.max, got, tt.want)
		}
	}
}
