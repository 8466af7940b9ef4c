package main

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/x"
)

// buildX builds the X streams (mentions, searches, DMs) of the configured
// account; none when connectors.x is disabled.
func buildX(d wireDeps) ([]connectors.Connector, error) {
	c := d.cfg.Connectors.X
	if !c.Enabled {
		return nil, nil
	}
	m, err := x.NewMetrics(d.metrics)
	if err != nil {
		return nil, fmt.Errorf("registering X metrics: %w", err)
	}
	o := x.Options{
		BaseURL:         c.BaseURL,
		UserID:          c.UserID,
		BearerToken:     c.BearerToken,
		Mentions:        c.Mentions,
		PollInterval:    time.Duration(c.PollInterval),
		ReadsPerDay:     c.ReadBudget.PerDay,
		ReadsPerPoll:    c.ReadBudget.PerPoll,
		IncludeRetweets: c.IncludeRetweets,
		IncludeOwn:      c.IncludeOwn,
		Responses:       c.ResponsesOn(),
		Metrics:         m,
		Log:             d.log.Named("x"),
		Redactor:        d.secrets,
	}
	for _, s := range c.Searches {
		o.Searches = append(o.Searches, x.Search{Name: s.Name, Query: s.Query})
	}
	if d := c.DMs; d.Enabled && d.OAuth1.IsSet() {
		o.DMs = &x.DMOptions{
			OAuth1: &x.OAuth1Credentials{ConsumerKey: d.OAuth1.ConsumerKey, ConsumerSecret: d.OAuth1.ConsumerSecret,
				AccessToken: d.OAuth1.AccessToken, AccessTokenSecret: d.OAuth1.AccessTokenSecret},
			PollInterval: time.Duration(d.PollInterval),
		}
	} else if d.Enabled {
		o.DMs = &x.DMOptions{
			ClientID:     d.ClientID,
			ClientSecret: d.ClientSecret,
			RefreshToken: d.RefreshToken,
			Store:        x.FileTokenStore{Path: d.RefreshTokenFile},
			StoreName:    d.RefreshTokenFile,
			PollInterval: time.Duration(d.PollInterval),
		}
	}
	return x.New(o)
}
