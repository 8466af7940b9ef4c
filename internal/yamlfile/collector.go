package yamlfile

import (
	"fmt"
	"sort"
)

// MaxErrors caps how many problems one file reports: the first ones, then
// one line saying how many more there are. A broken file of 100,000 lines
// must not print 100,000 lines or spend minutes positioning them.
const MaxErrors = 100

// Collector gathers the problems of one file. It positions the first
// MaxErrors and only counts the rest, so a file with a mistake repeated on
// every line costs no more than one with a hundred.
type Collector struct {
	doc  *Doc
	file string
	list List
	more int
}

// NewCollector returns a Collector positioning problems in doc.
func NewCollector(doc *Doc) *Collector {
	c := &Collector{doc: doc}
	if doc != nil {
		c.file = doc.file
	}
	return c
}

// NewFileCollector returns a Collector for problems positioned by the
// caller (Add) in a file that is not YAML.
func NewFileCollector(file string) *Collector { return &Collector{file: file} }

// Addf records a problem at the value p points to (see Doc.Errorf).
func (c *Collector) Addf(p Path, format string, args ...any) {
	if len(c.list) >= MaxErrors {
		c.more++
		return
	}
	c.list = append(c.list, c.doc.Errorf(p, format, args...))
}

// Add records a problem already positioned.
func (c *Collector) Add(e *Error) {
	if len(c.list) >= MaxErrors {
		c.more++
		return
	}
	c.list = append(c.list, e)
}

// Len is the number of problems recorded, counted ones included.
func (c *Collector) Len() int { return len(c.list) + c.more }

// List returns the problems in file order, followed by a line counting the
// ones not positioned (when there are any).
func (c *Collector) List() List {
	out := append(List(nil), c.list...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Col < out[j].Col
	})
	if c.more > 0 {
		out = append(out, &Error{File: c.file, Msg: fmt.Sprintf("… and %d more like these", c.more)})
	}
	return out
}
