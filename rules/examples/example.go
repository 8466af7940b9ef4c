// Package examples is the batch test of a rules file: labelled example
// messages (which team each one must reach, or that it is noise; the file
// format is package rules/exampleset) run through the rules the way the
// daemon decides (a reply whose own text decides nothing follows what it
// answers), and reported as per-team precision and recall, a confusion
// matrix and every failure with why. It is how ops keep a rules file
// correct, like amtool's route tests; docs/rules.md describes the file
// formats, "switchboard rules test -examples" and, for the rules' model,
// the cross-validation of "switchboard rules evaluate" (Evaluate).
package examples

import (
	"github.com/switchboard/switchboard/rules"
	"github.com/switchboard/switchboard/rules/exampleset"
)

// NoiseLabel names the expected or actual outcome "delivered to no team"
// in reports and in the team column of a TSV file.
const NoiseLabel = exampleset.NoiseLabel

// Example is one labelled message (see package exampleset).
type Example = exampleset.Example

// Set is the examples of one file, in file order (see package exampleset).
type Set = exampleset.Set

// Load reads and checks the examples file at path against the teams the
// rules declare (exampleset.Load).
func Load(path string, teams []string) (*Set, error) { return exampleset.Load(path, teams) }

// Parse reads examples from data (exampleset.Parse).
func Parse(file string, data []byte, teams []string) (*Set, error) {
	return exampleset.Parse(file, data, teams)
}

// Teams returns the names of the teams r declares, for Parse.
func Teams(r *rules.Rules) []string {
	var out []string
	for _, t := range r.Teams() {
		out = append(out, t.Name)
	}
	return out
}
