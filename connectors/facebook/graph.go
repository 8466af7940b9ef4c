package facebook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/secret"
)

// DefaultBaseURL is the Graph API host.
const DefaultBaseURL = "https://graph.facebook.com/"

// graphClient reads one page's Graph API edges with net/http: GET requests
// with the page token in the Authorization header (never in a URL) and
// appsecret_proof when configured; from every answer it keeps the status,
// the usage headers and the server's Date, and it decodes the body strictly
// into typed edges whose items stay raw, so that one bad item is skipped
// alone. Why this is plain net/http and not a Graph library: the package
// doc and docs/facebook.md, "The Graph client".
//
// A failed request is not retried here: the poll ends with the error and
// the supervisor retries the page with its backoff, showing it as
// backing_off with the error. One goroutine (the page's Run) uses a client.
type graphClient struct {
	hc      *http.Client
	base    *url.URL
	version string
	token   string
	proof   string // appsecret_proof; "" when not sent
	page    string // page id, for metrics and messages
	red     *secret.Redactor
	log     *zap.Logger
	metrics *Metrics
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	// pace is the page's pacing; it outlives this client.
	pace *pacer
	// paused is told about every rate-limit pause (it shows as last_error).
	paused func(error)
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
	Pace      *pacer
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
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("graph base URL %q is not an absolute http(s) URL without query or credentials", base)
	}
	g := &graphClient{
		hc: o.HTTP, base: u, version: o.Version, token: o.Token, page: o.PageID,
		red: o.Redactor, log: o.Log, metrics: o.Metrics, now: o.Now, sleep: o.Sleep, pace: o.Pace, paused: o.Paused,
	}
	if o.AppSecret != "" {
		mac := hmac.New(sha256.New, []byte(o.AppSecret))
		mac.Write([]byte(o.Token))
		g.proof = hex.EncodeToString(mac.Sum(nil))
	}
	if g.hc == nil {
		g.hc = &http.Client{Timeout: time.Minute}
	}
	if g.red == nil {
		g.red = secret.NewRedactor()
	}
	g.red.Add(secret.Secret(g.token), secret.Secret(g.proof))
	if g.log == nil {
		g.log = zap.NewNop()
	}
	if g.pace == nil {
		g.pace = &pacer{}
	}
	if g.paused == nil {
		g.paused = func(error) {}
	}
	return g, nil
}

// get reads the first page of an edge: GET <base><version>/<path>?query.
func (g *graphClient) get(ctx context.Context, kind, what, path string, query url.Values) (*edge, error) {
	u := *g.base
	u.Path = g.base.Path + g.version + "/" + path
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if g.proof != "" {
		q.Set("appsecret_proof", g.proof)
	}
	u.RawQuery = q.Encode()
	return g.do(ctx, kind, what, u.String())
}

// next reads the page of an edge that a paging.next link points to.
func (g *graphClient) next(ctx context.Context, kind, what, next string) (*edge, error) {
	u, err := g.checkNext(next)
	if err != nil {
		return nil, &graphError{class: classMalformed, what: what, msg: err.Error()}
	}
	return g.do(ctx, kind, what, u)
}

// checkNext accepts a paging link only to the configured Graph host (the
// token must never go anywhere else), drops any access_token in it (the
// header carries the token) and sets the appsecret_proof.
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
	if g.proof != "" {
		q.Set("appsecret_proof", g.proof)
	}
	u.User, u.RawQuery = nil, q.Encode()
	return u.String(), nil
}

// do sends one request, after the page's pacing allows it.
func (g *graphClient) do(ctx context.Context, kind, what, rawURL string) (*edge, error) {
	if err := g.pace.check(g.now(), what); err != nil {
		return nil, err
	}
	if d := g.pace.usage.pause(); d > 0 {
		if err := g.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &graphError{class: classMalformed, what: what, msg: "cannot build the request"}
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Accept", "application/json")
	resp, err := g.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ge := &graphError{class: classTransient, what: what, msg: "cannot reach the Graph API: " + g.red.Scrub(transportText(err))}
		g.metrics.request(g.page, kind, ge.class.String())
		return nil, ge
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	_ = resp.Body.Close()
	g.observe(resp.Header)
	var e *edge
	var ge *graphError
	switch {
	case readErr != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ge = &graphError{class: classTransient, what: what, status: resp.StatusCode, msg: "reading the answer failed: " + g.red.Scrub(transportText(readErr))}
	case len(body) > maxBody:
		ge = &graphError{class: classMalformed, what: what, status: resp.StatusCode, msg: fmt.Sprintf("the answer is larger than %d MiB", maxBody>>20)}
	default:
		e, ge = decodeAnswer(what, resp.StatusCode, body)
	}
	if ge == nil {
		g.metrics.request(g.page, kind, "ok")
		g.metrics.tokenState(g.page, false)
		if g.pace.streak > 0 {
			g.log.Info("facebook rate limit lifted; polling goes on")
			g.pace.streak = 0
		}
		if g.pace.usage.blocked() {
			g.block("the usage headers report a rate limit reached")
		}
		return e, nil
	}
	ge.msg, ge.typ, ge.trace = g.red.Scrub(ge.msg), g.red.Scrub(ge.typ), g.red.Scrub(ge.trace)
	g.metrics.request(g.page, kind, ge.class.String())
	switch ge.class {
	case classRateLimit:
		g.pace.streak++
		g.block(ge.Error())
	case classToken, classPermission:
		g.metrics.tokenState(g.page, true)
	}
	return nil, ge
}

// observe reads the usage headers and the server's Date of an answer.
func (g *graphClient) observe(h http.Header) {
	if u := parseUsage(h); u.seen {
		g.pace.usage = u
		g.metrics.usage(g.page, u)
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		g.date = d.UTC()
	}
}

// block pauses every request of this page until the rate limit is expected
// to be lifted.
func (g *graphClient) block(why string) {
	wait := rateLimitWait(g.pace.usage, max(g.pace.streak, 1))
	why = g.red.Scrub(why)
	g.pace.block(g.now().Add(wait), why)
	g.metrics.rateLimit(g.page)
	g.log.Warn("facebook rate limit reached; pausing this page's requests",
		zap.Duration("pause", wait), zap.Time("until", g.pace.blockedUntil),
		zap.Int("app_usage_pct", g.pace.usage.App), zap.Int("business_use_case_usage_pct", g.pace.usage.BUC),
		zap.String("reason", why))
	g.paused(fmt.Errorf("page %s rate limited, pausing %s: %s", g.page, wait, why))
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
