package config

import "github.com/switchboard/switchboard/internal/yamlfile"

// X configures the x connector. Not configured yet: the x connector has
// its own issue.
type X struct{}

// validate reports problems in the x section at p.
func (c *X) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {}
