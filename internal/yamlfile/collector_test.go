package yamlfile

import (
	"fmt"
	"testing"
)

func TestCollectorSortsAndCaps(t *testing.T) {
	c := NewFileCollector("f.tsv")
	for i := MaxErrors + 5; i > 0; i-- {
		c.Add(&Error{File: "f.tsv", Line: i, Col: 1, Msg: fmt.Sprint("bad ", i)})
	}
	l := c.List()
	if c.Len() != MaxErrors+5 || len(l) != MaxErrors+1 {
		t.Fatalf("Len %d, %d listed", c.Len(), len(l))
	}
	// The first MaxErrors added (lines 105 down to 6), in file order.
	if l[0].Line != 6 || l[MaxErrors-1].Line != MaxErrors+5 || l[MaxErrors].Error() != "f.tsv: … and 5 more like these" {
		t.Fatalf("got %v … %v / %v", l[0], l[MaxErrors-1], l[MaxErrors])
	}
}
