package facebook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
)

// minTriggerGap is the least time between the start of a poll and a poll
// that a webhook triggers: webhooks never make a page poll more often than
// the shortest poll_interval the configuration allows.
const minTriggerGap = 10 * time.Second

// Run polls the page until ctx ends. It returns an error wrapping
// connectors.ErrUnauthorized when the token is rejected, and other errors
// when a poll fails (a request failed, or the page is rate limited); the
// supervisor then shows the page as backing off with that error and
// restarts it with its backoff. A restart while the page is still rate
// limited returns at once, without a request.
func (p *Page) Run(ctx context.Context, h *connectors.Handle) error {
	token, err := p.cfg.Token()
	if err != nil {
		return fmt.Errorf("facebook page %s: reading its access token: %w", p.cfg.Label, err)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return fmt.Errorf("%w: facebook page %s: the access token is empty; set token or token_file of the page in connectors.facebook.pages",
			connectors.ErrUnauthorized, p.cfg.Label)
	}
	g, err := newGraphClient(graphOptions{
		BaseURL: p.opts.BaseURL, Version: p.opts.Version, Token: token, AppSecret: p.opts.AppSecret,
		PageID: p.cfg.ID, HTTP: p.opts.HTTPClient, Log: p.log, Metrics: p.opts.Metrics,
		Now: p.opts.Now, Sleep: p.opts.Sleep, Pace: &p.pace, Paused: h.Failed, Redactor: p.opts.Redactor,
	})
	if err != nil {
		return fmt.Errorf("facebook page %s: %w", p.cfg.Label, err)
	}
	if err := p.pace.check(p.opts.Now(), "page "+p.cfg.ID); err != nil {
		return p.fail(err)
	}
	raw, err := h.Checkpoint(ctx)
	if err != nil {
		return err
	}
	cp, err := decodeCheckpoint(raw, p.opts.Now())
	if err != nil {
		err = fmt.Errorf("facebook page %s: %w; reading again from the backfill window (the ingest dedup drops repeats)", p.cfg.Label, err)
		p.log.Error("facebook checkpoint unusable", zap.Error(err))
		h.Failed(err)
	}
	p.ensureKinds(cp)
	p.logStart(cp)
	for {
		start := p.opts.Now()
		err := p.poll(ctx, h, g, cp)
		if p.polled != nil {
			p.polled(err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return p.fail(err)
		}
		h.Succeeded()
		if !p.waitNext(ctx, start) {
			return nil
		}
	}
}

// logStart logs where each kind resumes.
func (p *Page) logStart(cp *checkpoint) {
	fields := []zap.Field{zap.Duration("poll_interval", p.cfg.PollInterval), zap.Duration("watch_window", p.cfg.WatchWindow),
		zap.String("graph_version", p.opts.Version)}
	for name, st := range map[string]*kindState{"feed_since": cp.Feed, "messages_since": cp.Messages, "sweep_since": cp.Sweep} {
		if st != nil {
			fields = append(fields, zap.Time(name, time.Unix(st.since(), 0).UTC()))
		}
	}
	if cp.Recover != 0 {
		fields = append(fields, zap.Time("recovering_comments_from", time.Unix(cp.Recover, 0).UTC()))
	}
	p.log.Info("facebook page polling", fields...)
}

// waitNext waits for the next poll of a poll that started at start: the
// poll interval, longer while the usage headers approach a limit. A
// webhook's trigger brings the poll forward to minTriggerGap after start,
// but only at normal usage: near a limit a trigger waits for the schedule,
// like every other poll. It reports false when ctx ended.
func (p *Page) waitNext(ctx context.Context, start time.Time) bool {
	factor := p.pace.usage.factor()
	wait := p.cfg.PollInterval * time.Duration(factor)
	if factor > 1 {
		p.log.Info("facebook usage is high; polling less often",
			zap.Int("usage_pct", p.pace.usage.Pct()), zap.Duration("next_poll_in", wait))
	}
	t := time.NewTimer(max(wait-p.opts.Now().Sub(start), 0))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-p.poke:
			if f := p.pace.usage.factor(); f > 1 {
				p.opts.Metrics.trigger(p.cfg.ID, "deferred")
				p.log.Debug("facebook webhook trigger deferred: usage is high, the scheduled poll reads it",
					zap.Int("usage_pct", p.pace.usage.Pct()))
				continue
			}
			p.opts.Metrics.trigger(p.cfg.ID, "polled")
			if gap := minTriggerGap - p.opts.Now().Sub(start); gap > 0 {
				if err := p.opts.Sleep(ctx, gap); err != nil {
					return false
				}
			}
			return true
		}
	}
}
