package main

import "github.com/switchboard/switchboard/connectors"

// buildEmail builds the email connectors; the email connector has its own issue.
func buildEmail(d wireDeps) ([]connectors.Connector, error) { return nil, nil }
