package config

import "github.com/switchboard/switchboard/internal/yamlfile"

// Facebook configures the facebook connector. Not configured yet: the facebook connector has
// its own issue.
type Facebook struct{}

// validate reports problems in the facebook section at p.
func (c *Facebook) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {}
