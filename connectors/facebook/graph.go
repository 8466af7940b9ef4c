package facebook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	fb "github.com/huandu/facebook/v2"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/secret"
	"go.uber.org/zap"
)

// DefaultBaseURL is the Graph API host.
const DefaultBaseURL = "https://graph.facebook.com/"

// Retries of a transient failure within one request before the poll fails
// (and the supervisor takes over with its slower backoff).
const (
	transientRetries = 4
	transientMin     = time.Second
	transientMax     = 30 * time.Second
)

// graphClient reads one page's Graph API edges through huandu/facebook. It
// owns the page's pacing: usage headers, rate-limit pauses and transient
// retries. One goroutine (the page's Run) uses it at a time.
type graphClient struct {
	session *fb.Session // carries the token, version, base URL and proof
	http    *http.Client
	base    *url.URL
	red     *secret.Redactor // knows the token and its appsecret_proof
	page    string           // page id, for metrics and messages
	log     *zap.Logger
	metrics *Metrics
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	// paused is told about every rate-limit pause (it shows as last_error).
	paused func(error)

	usage        usage
	blockedUntil time.Time
	limitStreak  int
	// date is the server's Date of the latest answer (zero when absent).
	date time.Time
}

// graphOptions configures a graphClient.
type graphOptions struct {
	BaseURL   string
	Version   string
	Token     string
	AppSecret string // non-empty: send appsecret_proof
	PageID    string
	HTTP      *http.Client
	Log       *zap.Logger
	Metrics   *Metrics
	Now       func() time.Time
	Sleep     func(context.Context, time.Duration) error
	Paused    func(error)
	// Redactor learns the token and its proof, and scrubs them from every
	// text the client passes on.
	Redactor *secret.Redactor
}

func newGraphClient(o graphOptions) (*graphClient, error) {
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("graph base URL %q is not an absolute http(s) URL", base)
	}
	var s *fb.Session
	if o.AppSecret != "" {
		app := fb.New("", o.AppSecret)
		app.EnableAppsecretProof = true
		s = app.Session(o.Token)
	} else {
		s = &fb.Session{}
		s.SetAccessToken(o.Token)
	}
	s.Version = o.Version
	s.BaseURL = base
	// The token travels in the Authorization header, never in a URL, so that
	// it cannot leak through URLs in errors, proxy logs or paging links.
	s.UseAuthorizationHeader()
	o.Redactor.Add(secret.Secret(o.Token), secret.Secret(s.AppsecretProof()))
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	paused := o.Paused
	if paused == nil {
		paused = func(error) {}
	}
	return &graphClient{
		session: s, http: hc, base: u, red: o.Redactor, page: o.PageID,
		log: o.Log, metrics: o.Metrics, now: o.Now, sleep: o.Sleep, paused: paused,
	}, nil
}

// get reads the first page of an edge: GET <version>/<path>?params.
func (g *graphClient) get(ctx context.Context, kind, what, path string, params fb.Params) (*edge, error) {
	return g.do(ctx, kind, what, func(s *fb.Session) (fb.Result, error) {
		return s.Get(path, params)
	})
}

// next reads the page of an edge that a paging.next link points to.
func (g *graphClient) next(ctx context.Context, kind, what, next string) (*edge, error) {
	u, err := g.checkNext(next)
	if err != nil {
		return nil, &graphError{class: classMalformed, what: what, msg: err.Error()}
	}
	return g.do(ctx, kind, what, func(s *fb.Session) (fb.Result, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		return s.Request(req)
	})
}

// checkNext accepts a paging link only to the configured Graph host (the
// token must never go anywhere else), drops any access_token in it (the
// header carries the token) and adds the appsecret_proof the session adds.
func (g *graphClient) checkNext(next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil || !u.IsAbs() {
		return "", errors.New("paging.next is not an absolute URL")
	}
	if u.Scheme != g.base.Scheme || u.Host != g.base.Host {
		return "", fmt.Errorf("paging.next points to %s://%s, not to the Graph API host %s", u.Scheme, u.Host, g.base.Host)
	}
	q := u.Query()
	q.Del("access_token")
	q.Del("appsecret_proof")
	if p := g.session.AppsecretProof(); p != "" {
		q.Set("appsecret_proof", p)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// do sends one request, pacing before it and retrying what can be retried.
func (g *graphClient) do(ctx context.Context, kind, what string, call func(*fb.Session) (fb.Result, error)) (*edge, error) {
	attempt := 0
	for {
		if err := g.pace(ctx); err != nil {
			return nil, err
		}
		rec := &recorder{client: g.http}
		s := g.session.WithContext(ctx)
		s.HttpClient = rec
		res, err := call(s)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if rec.header != nil {
			g.usage = parseUsage(rec.header)
			g.metrics.usage(g.page, g.usage)
			if d, perr := http.ParseTime(rec.header.Get("Date")); perr == nil {
				g.date = d.UTC()
			}
		}
		e, gerr := g.result(what, rec, res, err)
		if gerr == nil {
			g.metrics.request(g.page, kind, "ok")
			g.metrics.tokenState(g.page, false)
			if g.limitStreak > 0 {
				g.log.Info("facebook rate limit lifted; polling goes on")
				g.limitStreak = 0
			}
			if g.usage.blocked() {
				g.block("the usage headers report a rate limit reached")
			}
			return e, nil
		}
		g.metrics.request(g.page, kind, gerr.class.String())
		switch gerr.class {
		case classRateLimit:
			g.limitStreak++
			g.block(gerr.Error())
			continue
		case classTransient, classMalformed:
			attempt++
			if attempt > transientRetries {
				return nil, gerr
			}
			d := backoff.Policy{Min: transientMin, Max: transientMax}.Delay(attempt)
			g.log.Warn("facebook request failed; retrying", zap.String("kind", kind),
				zap.Int("attempt", attempt), zap.Duration("retry_in", d), zap.String("error", gerr.Error()))
			if err := g.sleep(ctx, d); err != nil {
				return nil, err
			}
			continue
		case classToken, classPermission:
			g.metrics.tokenState(g.page, true)
		}
		return nil, gerr
	}
}

// block pauses every request of this page until the rate limit is expected
// to be lifted.
func (g *graphClient) block(why string) {
	wait := rateLimitWait(g.usage, max(g.limitStreak, 1))
	g.blockedUntil = g.now().Add(wait)
	g.metrics.rateLimit(g.page)
	why = g.red.Scrub(why)
	g.log.Warn("facebook rate limit reached; pausing this page's requests",
		zap.Duration("pause", wait), zap.Time("until", g.blockedUntil),
		zap.Int("app_usage_pct", g.usage.App), zap.Int("business_use_case_usage_pct", g.usage.BUC),
		zap.String("reason", why))
	g.paused(fmt.Errorf("page %s rate limited, pausing %s: %s", g.page, wait, why))
}

// pace waits while the page is rate limited, and a little between requests
// when the usage headers approach a limit.
func (g *graphClient) pace(ctx context.Context) error {
	if d := g.blockedUntil.Sub(g.now()); d > 0 {
		return g.sleep(ctx, d)
	}
	if d := g.usage.pause(); d > 0 {
		return g.sleep(ctx, d)
	}
	return nil
}

// result turns what huandu/facebook returned into an edge or a graphError.
func (g *graphClient) result(what string, rec *recorder, _ fb.Result, err error) (*edge, *graphError) {
	ge := &graphError{what: what, status: rec.status}
	var fe *fb.Error
	var ue *fb.UnmarshalError
	switch {
	case rec.status == 0 && err != nil:
		ge.class, ge.msg = classTransient, "cannot reach the Graph API: "+g.red.Scrub(transportText(err))
		return nil, ge
	case errors.As(err, &fe):
		ge.code, ge.subcode, ge.typ, ge.trace = fe.Code, fe.ErrorSubcode, g.red.Scrub(truncate(fe.Type, 80)), g.red.Scrub(truncate(fe.TraceID, 80))
		ge.msg = g.red.Scrub(truncate(fe.Message, 300))
		ge.class = classifyCode(rec.status, fe.Code, fe.IsTransient)
		return nil, ge
	case err != nil && (errors.As(err, &ue) || rec.status != 0):
		ge.msg = "the answer is not Graph API JSON"
		switch {
		case rec.status == http.StatusTooManyRequests:
			ge.class = classRateLimit
		case rec.status >= 500:
			ge.class = classTransient
		case rec.status >= 200 && rec.status < 300:
			ge.class = classMalformed
		}
		return nil, ge
	case rec.status >= 400:
		ge.class, ge.msg = classifyCode(rec.status, 0, false), "error status without a Graph API error object"
		return nil, ge
	}
	e, perr := parseEdge(rec.body.Bytes())
	if perr != nil {
		ge.class, ge.msg = classMalformed, perr.Error()
		return nil, ge
	}
	return e, nil
}

// transportText is a network error without the URL (which carries query
// parameters).
func transportText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// recorder is the HTTP client huandu/facebook sends through: it keeps the
// status, the headers and a copy of the body of the answer, which the
// library does not expose.
type recorder struct {
	client *http.Client
	status int
	header http.Header
	body   bytes.Buffer
}

// Do sends req and tees the body into r.body.
func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	r.status, r.header = resp.StatusCode, resp.Header
	resp.Body = &teeBody{Reader: io.TeeReader(io.LimitReader(resp.Body, maxBody), &r.body), closer: resp.Body}
	return resp, nil
}

// Get implements fb.HttpClient.
func (r *recorder) Get(u string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return r.Do(req)
}

// Post implements fb.HttpClient.
func (r *recorder) Post(u, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return r.Do(req)
}

type teeBody struct {
	io.Reader
	closer io.Closer
}

func (t *teeBody) Close() error { return t.closer.Close() }
