package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/internal/trace"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticHandler serves the stylesheet.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fsrv.ServeHTTP(w, r)
	})
}

// pages holds one template per page, each with the shared layout.
type pages struct {
	byName map[string]*template.Template
}

// funcs are the helpers templates use; all of their output is escaped by
// html/template like any other value.
var funcs = template.FuncMap{
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"stampPtr": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"cut":  trace.Cut,
	"dash": func(s string) string {
		if s == "" {
			return "–"
		}
		return s
	},
	"pct": func(p float64) string { return fmt.Sprintf("%.0f%%", 100*p) },
	"num": func(f float64) string {
		if f == float64(int64(f)) {
			return fmt.Sprintf("%d", int64(f))
		}
		return fmt.Sprintf("%.1f", f)
	},
	"dur":     humanDuration,
	"outcome": trace.Outcome,
	"reason":  trace.Reason,
	"scores":  trace.Scores,
	"add":     func(a, b int) int { return a + b },
}

// parsePages parses the layout with each page.
func parsePages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the console layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("parsing console page %s: %w", n, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	// Title is the page's title; Nav marks the menu entry.
	Title, Nav string
	// Who is the logged-in operator; CSRF the token every form carries.
	Who  opsauth.Identity
	CSRF string
	// Now is when the page was made.
	Now time.Time
	// Notice and Error are messages at the top of the page.
	Notice, Error string
	// Data is the page's own data.
	Data any
}

// render writes page with data.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page, title string, v view) {
	t, ok := s.pages.byName[page]
	if !ok {
		s.d.Log.Error("console page template missing", zap.String("page", page))
		http.Error(w, "page template missing", http.StatusInternalServerError)
		return
	}
	v.Title = title
	if v.Nav == "" {
		v.Nav = page
	}
	v.Who, _ = opsauth.IdentityFrom(r.Context())
	v.CSRF = opsauth.CSRFToken(r.Context())
	v.Now = s.d.Now()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.d.Log.Error("rendering a console page", zap.String("page", page), zap.Error(err))
		http.Error(w, "rendering the page failed; see the daemon's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// fail renders an error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", http.StatusText(code), view{Error: msg})
}

type loginData struct {
	Next string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	v := view{Data: loginData{Next: opsauth.SafeNext(r.URL.Query().Get("next"), "/ui/")}}
	if !s.d.Auth.Enabled() {
		v.Error = opsauth.ErrNoTokens.Error()
	}
	s.render(w, r, http.StatusOK, "login", "Log in", v)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	next := opsauth.SafeNext(r.PostFormValue("next"), "/ui/")
	_, err := s.d.Auth.Login(w, r, r.PostFormValue("token"))
	var limited *opsauth.LimitedError
	switch {
	case err == nil:
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", opsauth.RetryAfterHeader(limited.RetryAfter))
		s.render(w, r, http.StatusTooManyRequests, "login", "Log in", view{Error: err.Error(), Data: loginData{Next: next}})
	case errors.Is(err, opsauth.ErrCrossSite):
		s.render(w, r, http.StatusForbidden, "login", "Log in", view{Error: err.Error(), Data: loginData{Next: next}})
	case errors.Is(err, opsauth.ErrNoTokens):
		s.render(w, r, http.StatusServiceUnavailable, "login", "Log in", view{Error: err.Error(), Data: loginData{Next: next}})
	default:
		s.render(w, r, http.StatusUnauthorized, "login", "Log in", view{Error: "That is not an ops token.", Data: loginData{Next: next}})
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.d.Auth.Logout(w, r)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// humanDuration says d in the largest sensible unit: 45s, 12m, 3h 5m, 2d 4h.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}
