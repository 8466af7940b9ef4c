// Package yamlfile decodes YAML files strictly and reports every problem as
// FILE:LINE:COL: message, for configuration and rules files that people edit.
package yamlfile

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Error is one problem at one place in a file.
type Error struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int // 1-based; 0 when unknown
	Msg  string
}

// Error formats the problem as FILE:LINE:COL: message.
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// List is several problems in one file, in file order.
type List []*Error

// Error joins the problems one per line.
func (l List) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Doc is a parsed YAML document that can say where a value sits.
type Doc struct {
	file string
	ast  *ast.File
}

// Decode strictly decodes data (named file in messages) into v: unknown keys,
// duplicate keys, wrong types and syntax errors are errors with positions.
// The returned Doc locates values for later semantic checks. The file is
// first held to DefaultLimits (see Prescan).
func Decode(file string, data []byte, v any) (*Doc, error) {
	return DecodeLimited(file, data, v, DefaultLimits())
}

// DecodeLimited is Decode with the file held to lim before it is parsed, so
// that no file, however hostile, costs more than time and memory linear in
// its (capped) size.
func DecodeLimited(file string, data []byte, v any, lim Limits) (doc *Doc, err error) {
	if err := Prescan(file, data, lim); err != nil {
		return nil, err
	}
	// goccy/go-yaml v1.18 panics on some malformed input (a tag where a
	// list belongs, found by fuzzing); a bad file must be an error.
	defer func() {
		if p := recover(); p != nil {
			doc, err = nil, List{{File: file, Msg: fmt.Sprintf("the YAML decoder failed on this file (%v); check its syntax", p)}}
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, List{fromYAML(file, err)}
	}
	doc = &Doc{file: file, ast: f}
	if !lim.AllowAliases {
		// The pre-scan refuses every alias it sees; this is the YAML
		// library's own reading, before anything is expanded.
		if err := refuseAliases(file, f, lim); err != nil {
			return nil, err
		}
	}
	if len(f.Docs) > 1 {
		return nil, List{&Error{File: file, Msg: "more than one YAML document; keep one per file"}}
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return doc, nil // empty file: keep the defaults already in v
	}
	// Decode the tree already parsed rather than parsing the bytes again.
	if err := yaml.NodeToValue(f.Docs[0].Body, v, yaml.Strict()); err != nil {
		return nil, List{fromYAML(file, err)}
	}
	return doc, nil
}

// aliasFinder finds the first anchor or alias of a parsed file.
type aliasFinder struct{ found ast.Node }

// Visit implements ast.Visitor.
func (v *aliasFinder) Visit(n ast.Node) ast.Visitor {
	if v.found != nil {
		return nil
	}
	switch n.(type) {
	case *ast.AliasNode, *ast.AnchorNode:
		v.found = n
		return nil
	}
	return v
}

func refuseAliases(file string, f *ast.File, lim Limits) error {
	v := &aliasFinder{}
	for _, d := range f.Docs {
		ast.Walk(v, d)
	}
	if v.found == nil {
		return nil
	}
	e := &Error{File: file, Msg: "YAML anchors (&name) and aliases (*name) are not accepted here"}
	if lim.AliasHelp != "" {
		e.Msg += "; " + lim.AliasHelp
	}
	if tk := v.found.GetToken(); tk != nil && tk.Position != nil {
		e.Line, e.Col = tk.Position.Line, tk.Position.Column
	}
	return List{e}
}

func fromYAML(file string, err error) *Error {
	var ye positioned
	if errors.As(err, &ye) {
		e := &Error{File: file, Msg: ye.GetMessage()}
		var te *yaml.TypeError
		var oe *yaml.OverflowError
		switch {
		case errors.As(err, &te):
			// The decoder's message names Go types ("config.Secret");
			// people edit YAML.
			e.Msg = fmt.Sprintf("want %s here, not %s", kindName(te.DstType), kindName(te.SrcType))
		case errors.As(err, &oe):
			e.Msg = fmt.Sprintf("the number %s is too large for this value", oe.SrcNum)
		}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Col = tk.Position.Line, tk.Position.Column
		}
		return e
	}
	return &Error{File: file, Msg: err.Error()}
}

// kindName says in YAML words what a Go type holds.
func kindName(t reflect.Type) string {
	if t == nil {
		return "nothing"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value)"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "another kind of value"
}

// positioned is what goccy/go-yaml's errors and this package's value errors share.
type positioned interface {
	GetToken() *token.Token
	GetMessage() string
}

// Path is a route to a value: map keys (string) and sequence indexes (int).
type Path []any

// Child returns a copy of p extended by elem.
func (p Path) Child(elem any) Path {
	q := make(Path, len(p), len(p)+1)
	copy(q, p)
	return append(q, elem)
}

// String renders p as dotted keys and [i] indexes, for messages.
func (p Path) String() string {
	var b strings.Builder
	for _, el := range p {
		switch v := el.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// Errorf returns an Error positioned at the value p points to, or at its
// nearest existing parent when the value itself is absent (a missing key).
func (d *Doc) Errorf(p Path, format string, args ...any) *Error {
	if d == nil {
		return &Error{Msg: fmt.Sprintf(format, args...)}
	}
	e := &Error{File: d.file, Msg: fmt.Sprintf(format, args...)}
	if d.ast == nil {
		return e
	}
	for n := len(p); n > 0; n-- {
		if line, col, ok := d.locate(p[:n]); ok {
			e.Line, e.Col = line, col
			return e
		}
	}
	e.Line, e.Col = 1, 1 // missing at the top level: point at the file's start
	return e
}

func (d *Doc) locate(p Path) (int, int, bool) {
	b := (&yaml.PathBuilder{}).Root()
	for _, el := range p {
		switch v := el.(type) {
		case int:
			b = b.Index(uint(v))
		default:
			b = b.Child(fmt.Sprint(v))
		}
	}
	node, err := b.Build().FilterFile(d.ast)
	if err != nil || node == nil {
		return 0, 0, false
	}
	// A mapping's own token is its first ':'; point at its first key instead.
	switch m := node.(type) {
	case *ast.MappingNode:
		if len(m.Values) > 0 {
			node = m.Values[0].Key
		}
	case *ast.MappingValueNode:
		node = m.Key
	}
	tk := node.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0, false
	}
	return tk.Position.Line, tk.Position.Column, true
}
