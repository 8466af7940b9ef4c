package main

import "github.com/switchboard/switchboard/connectors"

// buildFacebook builds the facebook connectors; the facebook connector has its own issue.
func buildFacebook(d wireDeps) ([]connectors.Connector, error) { return nil, nil }
