package main

import (
	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/intake"
)

// buildIntake builds the HTTP intake and mounts POST /v1/messages.
func buildIntake(d wireDeps) ([]connectors.Connector, error) {
	in := d.cfg.Connectors.Intake
	if !in.Enabled {
		return nil, nil
	}
	c := intake.New(in.Token.Reveal(), int64(in.MaxBodyBytes), d.log.Named("intake"))
	d.handle("/v1/messages", c)
	return []connectors.Connector{c}, nil
}
