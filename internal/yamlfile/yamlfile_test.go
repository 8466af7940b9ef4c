package yamlfile

import (
	"strings"
	"testing"
	"time"
)

type sample struct {
	Name  string         `yaml:"name"`
	Wait  Duration       `yaml:"wait"`
	Size  ByteSize       `yaml:"size"`
	Items []sampleItem   `yaml:"items"`
	Tags  map[string]int `yaml:"tags"`
}

type sampleItem struct {
	ID string `yaml:"id"`
}

func TestDecodeErrorsArePositioned(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"unknown key", "name: a\nnmae: b\n", `f.yaml:2:1: unknown field "nmae"`},
		{"nested unknown key", "items:\n  - id: a\n    idd: b\n", `f.yaml:3:5: unknown field "idd"`},
		{"bad duration", "wait: 5 minutes\n", `f.yaml:1:7: invalid duration "5 minutes"`},
		{"bad size", "size: lots\n", `f.yaml:1:7: invalid size "lots"`},
		{"wrong type", "items: 3\n", "f.yaml:1:"},
		{"mapping for a string", "name: {a: 1}\n", "f.yaml:1:7: want a string here, not a mapping (key: value)"},
		{"string for a number", "tags: {k: many}\n", "f.yaml:1:11: want a whole number here, not a string"},
		{"number too large", "tags: {k: 99999999999999999999999}\n", "f.yaml:1:11: the number 99999999999999999999999 is too large"},
		{"syntax", "name: [a\n", "f.yaml:1:"},
		{"duplicate key", "name: a\nname: b\n", "f.yaml:2:1:"},
		{"tag where a list belongs", "items:\n  ! x\n", "f.yaml"},
		{"two documents", "name: a\n---\nname: b\n", "f.yaml: more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sample
			_, err := Decode("f.yaml", []byte(tt.data), &s)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "yamlfile.") {
				t.Fatalf("the error names Go types: %v", err)
			}
		})
	}
}

func TestDecodeKeepsDefaultsOnEmpty(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "\n\n"} {
		s := sample{Name: "default"}
		if _, err := Decode("f.yaml", []byte(data), &s); err != nil || s.Name != "default" {
			t.Fatalf("%q: %v %+v", data, err, s)
		}
	}
}

func TestErrorfLocatesValues(t *testing.T) {
	data := "name: a\nitems:\n  - id: x\n  - id: y\ntags:\n  k: 1\n"
	var s sample
	doc, err := Decode("f.yaml", []byte(data), &s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path Path
		want string
	}{
		{Path{"items", 1, "id"}, "f.yaml:4:9: bad"},
		{Path{"tags", "k"}, "f.yaml:6:6: bad"},
		{Path{"items", 1, "missing"}, "f.yaml:4:5: bad"}, // nearest existing parent
		{Path{"absent"}, "f.yaml:1:1: bad"},
	}
	for _, tt := range tests {
		if got := doc.Errorf(tt.path, "bad").Error(); got != tt.want {
			t.Errorf("Errorf(%v) = %q, want %q", tt.path, got, tt.want)
		}
	}
	if got := (Path{"a", 2, "b"}).String(); got != "a[2].b" {
		t.Errorf("Path.String = %q", got)
	}
}

func TestListError(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list must be a nil error")
	}
	l = append(l, &Error{File: "f", Line: 1, Col: 2, Msg: "a"}, &Error{File: "f", Msg: "b"})
	if got := l.Err().Error(); got != "f:1:2: a\nf: b" {
		t.Fatalf("got %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"7d", 7 * 24 * time.Hour, true},
		{" 24h ", 24 * time.Hour, true},
		{"0", 0, true},
		{"1.5h", 90 * time.Minute, true},
		{"d", 0, false},
		{"-3d", 0, false},
		{"7 days", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseDuration(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"65536", 65536, true},
		{"64KiB", 64 << 10, true},
		{"10 GiB", 10 << 30, true},
		{"1MB", 1_000_000, true},
		{"-1", -1, true},
		{"-2", 0, false},
		{"5XB", 0, false},
		{"9999999TiB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseByteSize(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"name: a\n", "items:\n  - id: x\n", "wait: 7d\nsize: 1GiB\n", "{", "- - -", "name: &a [*a]\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var s sample
		doc, err := Decode("f.yaml", []byte(data), &s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		_ = doc.Errorf(Path{"items", 0, "id"}, "x").Error()
	})
}
