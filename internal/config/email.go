package config

import "github.com/switchboard/switchboard/internal/yamlfile"

// Email configures the email connector. Not configured yet: the email connector has
// its own issue.
type Email struct{}

// validate reports problems in the email section at p.
func (c *Email) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {}
