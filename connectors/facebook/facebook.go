// Package facebook is the Facebook Pages connector. One Page connector polls
// one page through the Graph API: visitor posts and (optionally) the page's
// own posts from /{page-id}/feed, the comments and replies on them expanded
// in the same request, and Messenger messages from /{page-id}/conversations.
// What the page itself wrote (its comments, replies and Messenger answers) is
// never ingested as a customer item: those are the page's answers, published
// as responses (message.Response) when responses are tracked.
//
// Comments are read on every post of a watch window (watch_window, 30 days by
// default), without relying on what the Graph API reference leaves open
// (whether since on the feed follows created_time or updated_time, whether a
// comment brings its post back): one feed request with since=<window start>
// and limit=100 returns the watched posts, each with its newest comments
// expanded (filter(stream), order(reverse_chronological), summary(true)).
// A post's comments are read further only when its expanded page is all new,
// when the summary says the order asked for was not used, or when its
// total_count grew by more than the new comments found. An idle poll of a
// page with up to 100 watched posts costs two requests: the feed and the
// conversations. Posts older than the window are read by a slower sweep
// (sweep_interval). Each page has its own checkpoint in the connector KV
// store; a restart resumes with no gap and nothing ingested twice.
// docs/facebook.md has the details, the permissions a page token needs and
// the rate-limit behaviour.
//
// The Graph client (graph.go) is plain net/http, not a Graph library: the
// connector needs every answer's status, usage headers and Date, a bounded
// body decoded strictly with one bad item skipped alone, and paging that
// never leaves the Graph host nor stops at a short page; docs/facebook.md,
// "The Graph client", has the evidence.
//
// A Webhook receiver (webhook.go) makes a page poll sooner when Facebook
// reports a change, within the same pacing as scheduled polls; polling
// stays the source of truth.
package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/backoff"
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

// Defaults of a PageConfig.
const (
	// DefaultWatchWindow is how old a post can be and still have its
	// comments read on every poll.
	DefaultWatchWindow = 30 * 24 * time.Hour
	// DefaultSweepInterval is how often the comments of older posts are read.
	DefaultSweepInterval = 6 * time.Hour
	// SweepHorizon is how old a post can be and still be swept.
	SweepHorizon = 365 * 24 * time.Hour
)

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
	// WatchWindow is how old a post can be and still have its comments
	// read on every poll (default DefaultWatchWindow).
	WatchWindow time.Duration
	// SweepInterval is how often the comments of posts older than the
	// window (up to SweepHorizon) are read (default DefaultSweepInterval).
	SweepInterval time.Duration
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
	// pace is the page's pacing, kept across restarts of Run.
	pace pacer
	// polled, if set, is told about every finished poll (tests).
	polled func(error)
}

// Page sizes. Graph API limits are at most 100.
const (
	// feedLimit posts per feed request: a window of up to 100 posts is one
	// request.
	feedLimit = 100
	// commentsLimit comments expanded per post in the feed request.
	commentsLimit = 25
	// morePageLimit comments or messages per request when a post or a
	// conversation is read further.
	morePageLimit = 100
	// convLimit conversations per request, each with messagesLimit messages.
	convLimit     = 25
	messagesLimit = 25
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
	if cfg.PollInterval <= 0 || cfg.Backfill < 0 || cfg.WatchWindow < 0 || cfg.SweepInterval < 0 {
		return nil, fmt.Errorf("facebook page %s: poll interval must be positive; backfill, watch window and sweep interval not negative", cfg.ID)
	}
	if !cfg.Ingest.feed() && !cfg.Ingest.Messages {
		return nil, fmt.Errorf("facebook page %s: nothing to ingest", cfg.ID)
	}
	if cfg.Label == "" {
		cfg.Label = cfg.ID
	}
	if cfg.WatchWindow == 0 {
		cfg.WatchWindow = DefaultWatchWindow
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
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

// Trigger asks for a poll sooner, without waiting; triggers that arrive
// while a poll runs result in one more poll. The poll still keeps the
// page's pacing (Run).
func (p *Page) Trigger() {
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// ensureKinds starts the progress of every kind the page reads but has no
// checkpoint for (a first start, or a kind added to the configuration).
func (p *Page) ensureKinds(cp *checkpoint) {
	floor := p.opts.Now().Add(-p.cfg.Backfill)
	if p.cfg.Ingest.feed() && cp.Feed == nil {
		cp.Feed = newKindState(floor)
	}
	if p.cfg.Ingest.Comments && cp.Sweep == nil {
		cp.Sweep = newKindState(floor)
	}
	if p.cfg.Ingest.Messages && cp.Messages == nil {
		cp.Messages = newKindState(floor)
	}
}

// poll reads every kind once. A kind that fails does not stop the other one,
// unless the token was rejected or the page is rate limited (every request
// of the page would fail alike); the checkpoint is saved once at the end.
func (p *Page) poll(ctx context.Context, h *connectors.Handle, g *graphClient, cp *checkpoint) error {
	var errs []error
	// step runs one kind and reports whether the poll must stop.
	step := func(f func(context.Context, *connectors.Handle, *graphClient, *checkpoint) error) bool {
		err := f(ctx, h, g, cp)
		if err == nil {
			return false
		}
		errs = append(errs, err)
		c, _ := classOf(err)
		return ctx.Err() != nil || c == classToken || c == classPermission || c == classRateLimit
	}
	stopped := false
	if p.cfg.Ingest.feed() {
		stopped = step(p.pollFeed)
		if !stopped && len(errs) == 0 && p.sweepDue(cp) {
			stopped = step(p.pollSweep)
		}
	}
	if p.cfg.Ingest.Messages && !stopped {
		step(p.pollMessages)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := h.SaveCheckpoint(ctx, cp.encode()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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

// malformed reports an item that could not be read; the rest goes on.
func (p *Page) malformed(h *connectors.Handle, what string, err error) {
	p.opts.Metrics.malformedItem(p.cfg.ID)
	p.log.Warn("facebook item skipped: unreadable", zap.String("in", what), zap.Error(err))
	h.Failed(fmt.Errorf("page %s, %s: %w", p.cfg.ID, what, err))
}

// readable yields the items of data that decode, reporting each one that
// does not as an unreadable item in what (see malformed).
func readable[T any](p *Page, h *connectors.Handle, what string, data []json.RawMessage, decode func(json.RawMessage) (T, error)) iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, raw := range data {
			v, err := decode(raw)
			if err != nil {
				p.malformed(h, what, err)
				continue
			}
			if !yield(v) {
				return
			}
		}
	}
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

// pager follows paging links, refusing to visit one twice.
type pager struct {
	seen map[string]bool
	n    int
}

// ok reports whether next (a link or a cursor) may be followed.
func (pg *pager) ok(next string) error {
	if pg.seen == nil {
		pg.seen = map[string]bool{}
	}
	pg.n++
	if pg.seen[next] || pg.n > maxPages {
		return &graphError{class: classMalformed, what: "paging", msg: "paging repeats itself; stopping this pass"}
	}
	pg.seen[next] = true
	return nil
}
