// Command switchboard polls customer channels, classifies every message by
// rules that ops own and delivers it to the queue of the team that owns it.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "switchboard: under construction")
	os.Exit(2)
}
