package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/facebook"
	"github.com/switchboard/switchboard/internal/config"
)

// buildFacebook builds one connector per configured page (named
// "facebook.<page id>", each with its own checkpoint and status) and mounts
// the Page webhook receiver when it is enabled.
func buildFacebook(d wireDeps) ([]connectors.Connector, error) {
	fc := d.cfg.Connectors.Facebook
	if len(fc.Pages) == 0 {
		return nil, nil
	}
	metrics, err := facebook.NewMetrics(d.metrics)
	if err != nil {
		return nil, err
	}
	log := d.log.Named("facebook")
	opts := facebook.Options{BaseURL: fc.BaseURL, Version: fc.GraphVersion, Log: log, Metrics: metrics, Redactor: d.secrets}
	if fc.AppsecretProof {
		opts.AppSecret = fc.Webhook.AppSecret.Reveal()
	}
	triggers := map[string]facebook.Trigger{}
	conns := make([]connectors.Connector, 0, len(fc.Pages))
	for _, pc := range fc.Pages {
		page, err := facebook.NewPage(facebook.PageConfig{
			ID:            pc.ID,
			Label:         pc.Label(),
			Token:         tokenSource(pc),
			PollInterval:  time.Duration(pc.PollInterval),
			Backfill:      time.Duration(pc.Backfill),
			WatchWindow:   time.Duration(pc.WatchWindow),
			SweepInterval: time.Duration(pc.SweepInterval),
			Ingest: facebook.Ingest{
				VisitorPosts: pc.Wants(config.FacebookIngestVisitorPosts),
				Comments:     pc.Wants(config.FacebookIngestComments),
				Messages:     pc.Wants(config.FacebookIngestMessages),
				PagePosts:    pc.Wants(config.FacebookIngestPagePosts),
			},
		}, opts)
		if err != nil {
			return nil, fmt.Errorf("connectors.facebook: %w", err)
		}
		triggers[pc.ID] = page
		conns = append(conns, page)
	}
	if fc.Webhook.Enabled {
		if d.cfg.HTTP.Listen == "" {
			return nil, errors.New("connectors.facebook.webhook is enabled but http.listen is empty: the webhook needs the HTTP listener")
		}
		wh, err := facebook.NewWebhook(facebook.WebhookConfig{
			VerifyToken: fc.Webhook.VerifyToken.Reveal(), AppSecret: fc.Webhook.AppSecret.Reveal(),
			Pages: triggers, Log: log.Named("webhook"), Metrics: metrics,
		})
		if err != nil {
			return nil, err
		}
		d.handle(fc.Webhook.Path, wh)
	}
	return conns, nil
}

// tokenSource reads a page's token: from token_file each time the page's
// poller starts (so a rotated token is picked up on its next restart), or
// the token given inline.
func tokenSource(pc config.FacebookPage) facebook.TokenSource {
	if pc.TokenFile == "" {
		token := pc.Token.Reveal()
		return func() (string, error) { return token, nil }
	}
	file := pc.TokenFile
	return func() (string, error) {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading token_file %s: %w", file, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
}
