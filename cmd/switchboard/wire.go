package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/secret"
)

// wireDeps is what a channel needs to build its connectors.
type wireDeps struct {
	cfg *config.Config
	log *zap.Logger
	// secrets is the daemon's redactor; connectors add the credentials
	// they obtain at run time.
	secrets *secret.Redactor
	metrics prometheus.Registerer
	// handle mounts an HTTP handler on the daemon's listener (webhooks).
	handle func(pattern string, h http.Handler)
}

// channelBuilder builds the connectors of one channel from the config; it
// returns none when the channel is not configured.
type channelBuilder func(d wireDeps) ([]connectors.Connector, error)

// channelBuilders lists every channel; each lives in its wire_<channel>.go.
func channelBuilders() []channelBuilder {
	return []channelBuilder{buildIntake, buildFacebook, buildX, buildEmail}
}
