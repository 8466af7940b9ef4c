package yamlfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/switchboard/switchboard/internal/yamlfile/yamlfiletest"
)

// bombHead makes the alias bomb a valid rules file but for the bomb.
const bombHead = "default_team: t\nteams: [{name: t}]\n"

var testLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 16, AliasHelp: "write it out"}

func TestPrescanAcceptsOrdinaryYAML(t *testing.T) {
	for _, data := range []string{
		"",
		"a: 1\nb: [x, y]\nc: {d: e}\n",
		"words: [\"*lasku\", '*paketti', \"a \\\" *b\", 'it''s *x']\n",
		"a: |\n  *not an alias\n  [[[[[[[[[[[[[[[[[[[[[[[\nb: >-\n  &text\n",
		"- |\n  *x\n- y\n",
		"# *comment &too [[[[[[[[[[[[[[[[[[[[[\na: b # *and here\n",
		"url: http://example.com/a*b&c\nmail: \"*@example.com\"\n",
		"description: a long text\n  *continued* here\n  &and here\nnext: 1\n",
		"key:\n  value on its own line\n  *continued*\n",
		"a: b&c*d\nlist:\n  - x*\n  - \"*y\"\n",
		"a: !!str 1\nb: !tag [x]\n",
		"---\na: 1\n...\n",
		"nested:\n  - a:\n      - b:\n          c: [1, [2, {d: 3}]]\n",
		"multi: \"line one\n  *still quoted\"\n",
		"single: 'line one\n  *still quoted'\n",
	} {
		if err := Prescan("f.yaml", []byte(data), testLimits); err != nil {
			t.Errorf("%q: %v", data, err)
		}
	}
}

func TestPrescanRefuses(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"alias", "a: &x [1]\nb: *x\n", `f.yaml:1:4: "&x" is an anchor: YAML anchors (&name) and aliases (*name) are not accepted here; write it out`},
		{"alias in a list", "words: [a, *lasku]\n", `f.yaml:1:12: "*lasku" is an alias`},
		{"alias as list item", "words:\n  - *lasku\n", `f.yaml:2:5: "*lasku" is an alias`},
		{"deep flow", "a: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n", "f.yaml:1:18: the file nests more than 16 levels deep here; flatten it"},
		{"deep block", deepBlock(20), "f.yaml:16:"},
		{"compact block", "a: " + strings.Repeat("- ", 20) + "x\n", "f.yaml:1:"},
		{"too big", strings.Repeat("a", 1<<20+1), "f.yaml: the file is over the size limit of 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Prescan("f.yaml", []byte(tt.data), testLimits)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat("  ", i), i)
	}
	return b.String() + strings.Repeat("  ", n) + "v: 1\n"
}

func TestPrescanCapsErrors(t *testing.T) {
	data := strings.Repeat("- *a\n", 10*MaxErrors)
	err := Prescan("f.yaml", []byte(data), testLimits)
	l, ok := err.(List)
	if !ok || len(l) != maxAliasErrors+1 || l[maxAliasErrors].Msg != "… and 995 more anchors and aliases" {
		t.Fatalf("got %d problems: %v", len(l), err)
	}
}

// TestBombsAreRefusedCheaply: the files that once took gigabytes are refused
// by the pre-scan with a clear error, allocating almost nothing (the
// decoder reached 3.4 and 4.9 GB on them). BenchmarkPrescanBombs has the
// time.
func TestBombsAreRefusedCheaply(t *testing.T) {
	for name, data := range map[string]string{"alias bomb": yamlfiletest.AliasBomb(bombHead), "flow bomb": yamlfiletest.FlowBomb("")} {
		t.Run(name, func(t *testing.T) {
			var err error
			n := yamlfiletest.Allocated(func() {
				var v map[string]any
				_, err = Decode("f.yaml", []byte(data), &v)
			})
			if err == nil || !strings.HasPrefix(err.Error(), "f.yaml:") {
				t.Fatalf("not refused with a position: %v", err)
			}
			if n > 1<<20 {
				t.Fatalf("refusing it allocated %d bytes, want under 1 MiB", n)
			}
		})
	}
}

func BenchmarkPrescanBombs(b *testing.B) {
	for name, data := range map[string][]byte{"alias": []byte(yamlfiletest.AliasBomb(bombHead)), "flow": []byte(yamlfiletest.FlowBomb(""))} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var v map[string]any
				if _, err := Decode("f.yaml", data, &v); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

// depthFinder measures the nesting of a parsed tree.
type depthFinder struct {
	depth int
	max   *int
	alias *bool
}

func (f depthFinder) Visit(n ast.Node) ast.Visitor {
	switch n.(type) {
	case *ast.AliasNode, *ast.AnchorNode:
		*f.alias = true
	}
	if f.depth > *f.max {
		*f.max = f.depth
	}
	f.depth++
	return f
}

// FuzzPrescan: the pre-scan never panics, and the YAML library parses only
// what it accepted, never deeper than allowed (the AST has a few nodes per
// level of YAML nesting). Decode, which also checks the parsed tree, never
// lets an alias or anchor through.
func FuzzPrescan(f *testing.F) {
	for _, s := range []string{
		"a: &x [1]\nb: *x\n", "words: [\"*lasku\", a]\n", "a: |\n  *x\n", "- - - [a, {b: *c}]\n",
		"a: 'x\n  *y'\n", "k: v\n  *w\n", "? *a\n: b\n", "a: !t &x 1\n", "[*a]", "{a: *b}", "- >\n &x\n- *y\n",
		"a:\n\t*b\n", "\"a\": *b\n", "a: \"\\\"\" *b\n", "!,0 &0 0", "{0:*0}", "-\r0\r-\r&0 0", "#\r*0", "0\n: *0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var v map[string]any
		if _, err := DecodeLimited("f.yaml", []byte(data), &v, testLimits); err == nil && strings.ContainsAny(data, "&*") {
			file, _ := parseRecovered(data)
			for _, doc := range file.Docs {
				alias, depth := false, 0
				ast.Walk(depthFinder{max: &depth, alias: &alias}, doc)
				if alias {
					t.Fatalf("Decode let an alias or anchor through: %q", data)
				}
			}
		}
		if err := Prescan("f.yaml", []byte(data), testLimits); err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		file, err := parseRecovered(data)
		if err != nil || file == nil {
			return
		}
		for _, doc := range file.Docs {
			alias, depth := false, 0
			ast.Walk(depthFinder{max: &depth, alias: &alias}, doc)
			if depth > 4*testLimits.MaxDepth {
				t.Fatalf("the pre-scan let %d levels through: %q", depth, data)
			}
		}
	})
}

func parseRecovered(data string) (f *ast.File, err error) {
	defer func() {
		if recover() != nil {
			f, err = nil, fmt.Errorf("panic")
		}
	}()
	return parser.ParseBytes([]byte(data), 0)
}

func TestReadFileReadsNoMoreThanTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(strings.Repeat("a", 5000)), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := ReadFile(path, 100)
	if err != nil || len(data) != 101 {
		t.Fatalf("read %d bytes, %v; want 101", len(data), err)
	}
	if err := Prescan(path, data, Limits{MaxBytes: 100}); err == nil || !strings.Contains(err.Error(), "over the size limit of 100 bytes") {
		t.Fatalf("prescan: %v", err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing"), 100); err == nil {
		t.Fatal("a missing file read")
	}
}
