package rules

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"*@example.com", "Anna@Example.COM", true},
		{"*@example.com", "anna@example.com.evil", false},
		{"noreply*", "NoReply-123@x", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*", "", true},
		{"*", "anything", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"ÄIJÄ*", "äijäpaita", true},
		{"**x", "x", true},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	}
	for _, tt := range tests {
		g, err := newGlob(tt.pat)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.match(tt.s); got != tt.want {
			t.Errorf("%q ~ %q = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
	if _, err := newGlob(""); err == nil {
		t.Error("empty glob accepted")
	}
}
