package main

import (
	"fmt"
	"io"

	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/rules"
	"github.com/switchboard/switchboard/rules/examples"
)

// rulesEvaluate implements "rules evaluate": k-fold cross-validation of
// the rules with their model on labelled examples. Exit 0 when it ran, 2
// when the rules or the examples do not load, the rules have no model or
// the flags are wrong.
func rulesEvaluate(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard rules evaluate", `usage: switchboard rules evaluate [-rules FILE] [-examples FILE] [-folds 5] [-seed 1] [-json]

Cross-validate the rules with their model on labelled examples (the file
the rules name, or FILE): each example is decided by a model trained on the
other folds. Prints the accuracy of the rules without the model, of the
model alone and of both, and per team.`, stdout, stderr)
	rulesPath := fs.String("rules", "rules.yaml", "rules file (with a classifier: section)")
	exPath := fs.String("examples", "", "labelled examples (default: the file the rules name)")
	folds := fs.Int("folds", examples.DefaultFolds, "number of folds (k), at least 2")
	seed := fs.Uint64("seed", examples.DefaultSeed, "seed of the split into folds")
	asJSON := fs.Bool("json", false, "print the evaluation as JSON")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	switch {
	case *folds < 2:
		return fs.Usagef("-folds must be at least 2")
	}
	r, err := rules.Load(*rulesPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	path := *exPath
	if path == "" {
		if path = r.ExamplesFile(); path == "" {
			fmt.Fprintf(stderr, "switchboard rules evaluate: %s names no examples file: add examples: FILE to it, or give -examples FILE\n", *rulesPath)
			return 2
		}
	}
	set, err := examples.Load(path, examples.Teams(r))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ev, err := examples.Evaluate(r, set, examples.EvalOptions{Folds: *folds, Seed: *seed})
	if err != nil {
		fmt.Fprintln(stderr, "switchboard rules evaluate:", err)
		return 2
	}
	if *asJSON {
		return printJSON(stdout, stderr, "switchboard rules evaluate", ev)
	}
	ev.WriteText(stdout)
	return 0
}
