package loopback

import "testing"

func TestIs(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"", false},
		{"localhost.example.com", false},
		{"10.0.0.1", false},
		{"example.com", false},
		{"[::1]", false}, // callers pass url.URL.Hostname(), which drops brackets
	}
	for _, tt := range tests {
		if got := Is(tt.host); got != tt.want {
			t.Errorf("Is(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
