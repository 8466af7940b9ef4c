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
	m, err := intake.NewMetrics(d.metrics)
	if err != nil {
		return nil, err
	}
	c := intake.New(intake.Options{Token: in.Token.Reveal(), MaxBodyBytes: int64(in.MaxBodyBytes), MaxConcurrent: in.MaxConcurrent,
		Log: d.log.Named("intake"), Metrics: m})
	d.handle("/v1/messages", c)
	return []connectors.Connector{c}, nil
}
