package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/rules"
)

// configGroup is "switchboard config".
func configGroup() *cli.Group {
	return &cli.Group{
		Name:  "switchboard config",
		About: "Work with the configuration file.",
		Commands: []cli.Command{
			{Name: "check", Args: "[FILE]", Summary: "validate FILE (default config.yaml) and the rules file it names", Run: configCheck},
		},
	}
}

const configCheckUsage = `usage: switchboard config check [FILE]

Validate a configuration file (default config.yaml) without starting
anything: every key, value, URL and port, and the rules file that
router.rules_file names, which must exist and parse, with delivery
targets the daemon can build from this configuration. Problems are
printed one per line as FILE:LINE:COL: message and the exit code is 1;
warnings are printed and do not fail the check. Secrets are never
printed.`

// configCheck implements "switchboard config check [FILE]".
func configCheck(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard config check", configCheckUsage, stdout, stderr)
	path, code, ok := parseFileArg(fs, args, "config.yaml")
	if !ok {
		return code
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cli.ExitFailed
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stderr, "%s: warning: %s\n", path, w)
	}
	rs, err := checkRules(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: router.rules_file: %v\n", path, err)
		return cli.ExitFailed
	}
	for _, w := range rs.Warnings() {
		fmt.Fprintln(stderr, w)
	}
	fmt.Fprintf(stdout, "%s: ok; rules %s: version %s, %d routes, %d teams\n", path, cfg.Router.RulesFile, rs.Version(), len(rs.RouteIDs()), len(rs.Teams()))
	return cli.ExitOK
}

// checkRules loads the rules file cfg names and builds every delivery
// target of its teams as the daemon would (without connecting anywhere).
func checkRules(cfg *config.Config) (*rules.Rules, error) {
	if _, err := os.Stat(cfg.Router.RulesFile); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist", cfg.Router.RulesFile)
		}
		return nil, err
	}
	rs, err := rules.Load(cfg.Router.RulesFile)
	if err != nil {
		return nil, fmt.Errorf("the rules do not load:\n%w", err)
	}
	factory, closeDelivery, err := newTargetFactory(cfg, nil, bus.NewSubjects(cfg.Streams), zap.NewNop())
	if err != nil {
		return nil, fmt.Errorf("delivery.redis: %w", err)
	}
	defer closeDelivery()
	var errs []error
	for _, t := range rs.Teams() {
		for _, spec := range t.Targets {
			if _, err := factory.New(t.Name, spec); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("delivery targets in %s:\n%w", cfg.Router.RulesFile, err)
	}
	return rs, nil
}
