// Package facebook is the Facebook Pages connector. One Page connector polls
// one page through the Graph API: visitor posts and (optionally) the page's
// own posts from /{page-id}/feed, the comments and replies on them expanded
// in the same request, and Messenger messages from /{page-id}/conversations.
// What the page itself wrote (its comments, replies and Messenger answers) is
// never ingested: those are the page's answers, not feedback.
//
// An idle poll costs one request per kind, however many posts the page has:
// the feed is read with since=<watermark>, which the Graph API applies to a
// post's updated_time (moved by every new comment), so new comments on old
// posts are found too. Conversations have no time filter; they are read
// newest first until one older than the watermark. Each page has its own
// checkpoint (one section per kind) in the connector KV store; a restart
// resumes with no gap and nothing ingested twice. docs/facebook.md has the
// details, the permissions a page token needs and the rate-limit behaviour.
//
// A Webhook receiver (webhook.go) makes a page poll at once when Facebook
// reports a change, so latency drops from the poll interval to seconds;
// polling stays the source of truth.
package facebook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
)

// TokenSource returns a page's current access token. It is called whenever
// the page's connector (re)starts, so a token rotated in its file is picked up
// after the next restart of the poller, without restarting the daemon.
type TokenSource func() (string, error)

// Ingest says what a page reads.
type Ingest struct {
	// VisitorPosts are posts by others on the page's feed.
	VisitorPosts bool
	// Comments are comments and replies on the feed's posts.
	Comments bool
	// Messages are Messenger messages sent to the page.
	Messages bool
	// PagePosts are the page's own posts.
	PagePosts bool
}

func (in Ingest) feed() bool { return in.VisitorPosts || in.Comments || in.PagePosts }

// PageConfig is one page to poll.
type PageConfig struct {
	// ID is the numeric page id.
	ID string
	// Label names the page in logs (its configured name, or the id).
	Label string
	// Token returns the page access token.
	Token TokenSource
	// PollInterval is the time between polls.
	PollInterval time.Duration
	// Backfill is how far back the first poll (without a checkpoint) reads.
	Backfill time.Duration
	// Ingest says what to read.
	Ingest Ingest
}

// Options are what every page of one configuration shares.
type Options struct {
	// BaseURL is the Graph API base URL (default DefaultBaseURL).
	BaseURL string
	// Version is the pinned Graph API version, e.g. "v26.0".
	Version string
	// AppSecret, when set, adds appsecret_proof to every request.
	AppSecret string
	// HTTPClient sends the requests (default: a client with a 1m timeout).
	HTTPClient *http.Client
	// Log receives the connector's logs (default: none).
	Log *zap.Logger
	// Metrics records Prometheus metrics; nil records nothing.
	Metrics *Metrics
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx ends (default: backoff.Sleep).
	Sleep func(ctx context.Context, d time.Duration) error
	// Redactor knows the daemon's secrets; each page adds the token it
	// reads (a token_file may be rotated) and its appsecret_proof, so that
	// neither shows in logs or errors (default: a redactor of its own).
	Redactor *secret.Redactor
}

// Page polls one Facebook Page. It implements connectors.Connector.
type Page struct {
	cfg  PageConfig
	opts Options
	log  *zap.Logger
	// poke asks for a poll now (buffered: triggers during a poll coalesce).
	poke chan struct{}
	// polled, if set, is told about every finished poll (tests).
	polled func(error)
}

// Feed and conversation page sizes. The feed's limit is at most 100.
const (
	feedLimit     = 25
	commentsLimit = 50
	convLimit     = 25
	// minPollGap spaces polls that webhooks trigger in a burst.
	minPollGap = 2 * time.Second
	// maxPages guards a pass against a paging loop in a broken answer.
	maxPages = 10000
)

// NewPage returns the connector of one page.
func NewPage(cfg PageConfig, opts Options) (*Page, error) {
	if cfg.ID == "" || strings.ContainsAny(cfg.ID, "/?#. ") {
		return nil, fmt.Errorf("facebook page id %q: want the numeric page id", cfg.ID)
	}
	if cfg.Token == nil {
		return nil, fmt.Errorf("facebook page %s: no token source", cfg.ID)
	}
	if cfg.PollInterval <= 0 || cfg.Backfill < 0 {
		return nil, fmt.Errorf("facebook page %s: poll interval must be positive and backfill not negative", cfg.ID)
	}
	if !cfg.Ingest.feed() && !cfg.Ingest.Messages {
		return nil, fmt.Errorf("facebook page %s: nothing to ingest", cfg.ID)
	}
	if cfg.Label == "" {
		cfg.Label = cfg.ID
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = backoff.Sleep
	}
	if opts.Redactor == nil {
		opts.Redactor = secret.NewRedactor()
	}
	log := opts.Log.With(zap.String("page_id", cfg.ID), zap.String("page", cfg.Label))
	return &Page{cfg: cfg, opts: opts, log: log, poke: make(chan struct{}, 1)}, nil
}

// Name implements connectors.Connector: "facebook.<page id>".
func (p *Page) Name() string { return "facebook." + p.cfg.ID }

// PageID returns the id of the page polled.
func (p *Page) PageID() string { return p.cfg.ID }

// Trigger asks for a poll now, without waiting; triggers that arrive while a
// poll runs result in one more poll.
func (p *Page) Trigger() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// Run polls the page until ctx ends. It returns an error wrapping
// connectors.ErrUnauthorized when the token is rejected, and other errors
// when a poll fails after its retries; the supervisor restarts it.
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
		Now: p.opts.Now, Sleep: p.opts.Sleep, Paused: h.Failed, Redactor: p.opts.Redactor,
	})
	if err != nil {
		return fmt.Errorf("facebook page %s: %w", p.cfg.Label, err)
	}
	raw, err := h.Checkpoint(ctx)
	if err != nil {
		return err
	}
	cp, err := decodeCheckpoint(raw)
	if err != nil {
		err = fmt.Errorf("facebook page %s: %w; reading again from the backfill window (the ingest dedup drops repeats)", p.cfg.Label, err)
		p.log.Error("facebook checkpoint unusable", zap.Error(err))
		h.Failed(err)
	}
	p.ensureKinds(cp)
	fields := []zap.Field{zap.Duration("poll_interval", p.cfg.PollInterval), zap.String("graph_version", p.opts.Version)}
	for name, st := range map[string]*kindState{"feed_since": cp.Feed, "messages_since": cp.Messages} {
		if st != nil {
			fields = append(fields, zap.Time(name, time.Unix(st.since(), 0).UTC()))
		}
	}
	p.log.Info("facebook page polling", fields...)
	var last time.Time
	for {
		if !last.IsZero() {
			if gap := minPollGap - p.opts.Now().Sub(last); gap > 0 {
				if err := p.opts.Sleep(ctx, gap); err != nil {
					return nil
				}
			}
		}
		last = p.opts.Now()
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
		wait := p.cfg.PollInterval * time.Duration(g.usage.factor())
		if wait > p.cfg.PollInterval {
			p.log.Info("facebook usage is high; polling less often",
				zap.Int("usage_pct", g.usage.Pct()), zap.Duration("next_poll_in", wait))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-p.poke:
			t.Stop()
		case <-t.C:
		}
	}
}

// ensureKinds starts the progress of every kind the page reads but has no
// checkpoint for (a first start, or a kind added to the configuration).
func (p *Page) ensureKinds(cp *checkpoint) {
	floor := p.opts.Now().Add(-p.cfg.Backfill)
	if p.cfg.Ingest.feed() && cp.Feed == nil {
		cp.Feed = newKindState(floor)
	}
	if p.cfg.Ingest.Messages && cp.Messages == nil {
		cp.Messages = newKindState(floor)
	}
}

// poll reads every kind once. A kind that fails does not stop the other one,
// unless the token was rejected; the checkpoint is saved once at the end.
func (p *Page) poll(ctx context.Context, h *connectors.Handle, g *graphClient, cp *checkpoint) error {
	var errs []error
	if p.cfg.Ingest.feed() {
		if err := p.pollFeed(ctx, h, g, cp); err != nil {
			if fatal(err) || ctx.Err() != nil {
				return err
			}
			errs = append(errs, err)
		}
	}
	if p.cfg.Ingest.Messages {
		if err := p.pollMessages(ctx, h, g, cp); err != nil {
			if fatal(err) || ctx.Err() != nil {
				return err
			}
			errs = append(errs, err)
		}
	}
	if err := h.SaveCheckpoint(ctx, cp.encode()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// fatal reports whether err means the token cannot be used.
func fatal(err error) bool {
	c, _ := classOf(err)
	return c == classToken || c == classPermission
}

// fail turns the error that ended a poll into Run's error.
func (p *Page) fail(err error) error {
	c, ge := classOf(err)
	switch c {
	case classToken:
		return fmt.Errorf("%w: facebook page %s (%s): the page access token was rejected: %s (%v). "+
			"Create a new page access token and set it as token or token_file of this page in connectors.facebook.pages; "+
			"polling then resumes from the checkpoint and reads the gap",
			connectors.ErrUnauthorized, p.cfg.Label, p.cfg.ID, tokenProblem(ge.subcode), ge)
	case classPermission:
		return fmt.Errorf("%w: facebook page %s (%s): the page access token lacks a permission (%v). "+
			"Grant pages_read_engagement and pages_read_user_content (feed and comments) and pages_messaging and pages_manage_metadata (Messenger), "+
			"then set the new token of this page in connectors.facebook.pages",
			connectors.ErrUnauthorized, p.cfg.Label, p.cfg.ID, ge)
	}
	return fmt.Errorf("facebook page %s (%s): %w", p.cfg.Label, p.cfg.ID, err)
}

// item is one thing a pass read: an envelope to publish, or (env nil) the
// page's own item, skipped but remembered as read.
type item struct {
	id  string
	t   time.Time
	env *message.Envelope
}

// publish stores the envelopes of items in creation order and the
// checkpoint that marks them read. The checkpoint is saved only after
// JetStream acked every envelope; on failure the items stay unread, so the
// next pass reads them again and the ingest dedup drops the ones already
// stored.
func (p *Page) publish(ctx context.Context, h *connectors.Handle, cp *checkpoint, st *kindState, items []item) error {
	if len(items) == 0 {
		return nil
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].t.Before(items[j].t) })
	envs := make([]*message.Envelope, 0, len(items))
	for _, it := range items {
		st.markSeen(it.id, it.t)
		if it.env != nil {
			envs = append(envs, it.env)
		}
	}
	if err := h.PublishAndCheckpoint(ctx, cp.encode(), envs...); err != nil {
		for _, it := range items {
			delete(st.Seen, it.id)
		}
		return fmt.Errorf("storing %d facebook items: %w", len(envs), err)
	}
	return nil
}

// malformed reports an item that could not be read; the rest goes on.
func (p *Page) malformed(h *connectors.Handle, what string, err error) {
	p.opts.Metrics.malformedItem(p.cfg.ID)
	p.log.Warn("facebook item skipped: unreadable", zap.String("in", what), zap.Error(err))
	h.Failed(fmt.Errorf("page %s, %s: %w", p.cfg.ID, what, err))
}

// own reports whether a profile is the page itself.
func (p *Page) own(from *profile) bool { return from != nil && from.ID == p.cfg.ID }

// passStart is the server time of the answer that started a pass, or the
// local time when the answer had no Date.
func (p *Page) passStart(g *graphClient) time.Time {
	if !g.date.IsZero() {
		return g.date
	}
	return p.opts.Now()
}

// pager follows paging.next links, refusing to visit one twice.
type pager struct {
	seen map[string]bool
	n    int
}

// ok reports whether next may be followed.
func (pg *pager) ok(next string) error {
	if pg.seen == nil {
		pg.seen = map[string]bool{}
	}
	pg.n++
	if pg.seen[next] || pg.n > maxPages {
		return &graphError{class: classMalformed, what: "paging", msg: "paging.next repeats itself; stopping this pass"}
	}
	pg.seen[next] = true
	return nil
}
