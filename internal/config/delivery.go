package config

import "github.com/switchboard/switchboard/internal/yamlfile"

// Delivery configures the team-queue backends that teams' targets (declared
// in the rules file) deliver to. Filled in by the delivery issue.
type Delivery struct{}

// validate reports problems in the delivery section at p and fills in
// defaults.
func (c *Delivery) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {}
