package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
	"github.com/switchboard/switchboard/rules/backtest"
)

type rulesData struct {
	Summary rulesSummary
	// Text is the rules file, secrets redacted; InForce says the file on
	// disk is the version in force (else a reload was rejected or is
	// pending); TextError says why the file could not be read.
	Text      string
	InForce   bool
	TextError string
	Channels  []string
	// Playground and Backtest are the forms' input and result.
	Play     playForm
	Decision *rules.Decision
	Trace    *rules.Trace
	Back     backForm
	Report   *backtest.Report
	// HasBacktest says the backtest form works here.
	HasBacktest bool
}

type playForm struct {
	Text, Subject, Channel, Lang, Thread string
}

type backForm struct {
	Candidate string
	Last      int
	Error     string
}

// maxCandidate bounds a candidate rules file from the backtest form.
const maxCandidate = 512 << 10

// Backtest form bounds on how many stored messages are replayed.
const (
	defaultBacktestLast = 1000
	maxBacktestLast     = 20000
)

func (s *Server) rulesData() rulesData {
	rs := s.d.Rules.Current()
	d := rulesData{
		Summary:     rulesSummary{Version: rs.Version(), File: rs.File(), Routes: len(rs.RouteIDs()), Teams: len(rs.Teams()), Warnings: rs.Warnings(), Last: s.d.Reloads.Last()},
		Channels:    channels,
		Play:        playForm{Channel: "web", Thread: "new"},
		Back:        backForm{Last: defaultBacktestLast},
		HasBacktest: s.d.Backtest != nil,
	}
	data, err := os.ReadFile(rs.File())
	if err != nil {
		d.TextError = "The rules file cannot be read: " + err.Error()
		return d
	}
	d.Text = RedactRules(string(data))
	// The file is in force when its content is the version in force
	// (compared without parsing, which would train the rules' model).
	d.InForce = rules.FileVersion(data) == rs.Version()
	return d
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "rules", "Rules", view{Data: s.rulesData()})
}

func (s *Server) playground(w http.ResponseWriter, r *http.Request) {
	d := s.rulesData()
	f := playForm{
		Text: r.PostFormValue("text"), Subject: r.PostFormValue("subject"),
		Channel: r.PostFormValue("channel"), Lang: strings.TrimSpace(r.PostFormValue("lang")), Thread: r.PostFormValue("thread"),
	}
	d.Play = f
	v := view{Nav: "rules"}
	if strings.TrimSpace(f.Text) == "" && strings.TrimSpace(f.Subject) == "" {
		v.Error = "Playground: write a text (or a subject) to classify."
		v.Data = d
		s.render(w, r, http.StatusBadRequest, "rules", "Rules", v)
		return
	}
	if !message.ValidToken(f.Channel) {
		f.Channel = "web"
	}
	env := message.Envelope{
		Version: message.SchemaVersion, Channel: f.Channel, Kind: message.DefaultKind(f.Channel),
		Subject: f.Subject, Text: f.Text, Lang: f.Lang,
	}
	if f.Thread == "reply" {
		env.ParentID = "parent"
	}
	dec, tr := s.d.Rules.Current().Explain(&env)
	d.Decision, d.Trace = &dec, &tr
	v.Data = d
	s.render(w, r, http.StatusOK, "rules", "Rules", v)
}

func (s *Server) backtest(w http.ResponseWriter, r *http.Request) {
	d := s.rulesData()
	v := view{Nav: "rules"}
	candidate := r.PostFormValue("candidate")
	last, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("last")))
	if err != nil || last < 1 || last > maxBacktestLast {
		last = defaultBacktestLast
	}
	// The candidate is shown again for editing, with what may be a
	// credential redacted (the backtest needs no target's URL or secret).
	d.Back = backForm{Candidate: RedactRules(candidate), Last: last}
	code := http.StatusOK
	switch {
	case s.d.Backtest == nil:
		d.Back.Error = "The backtest is not available here."
	case len(candidate) > maxCandidate:
		d.Back.Error = "The candidate file is larger than 512 KiB."
		code = http.StatusRequestEntityTooLarge
	case strings.TrimSpace(candidate) == "":
		d.Back.Error = "Paste a candidate rules file."
		code = http.StatusBadRequest
	default:
		// The candidate is parsed as if it sat next to the rules in force
		// (relative secret_file paths resolve there); its problems name it
		// "candidate". Nothing of it goes live.
		next, err := rules.Parse(candidateName(s.d.Rules.Current().File()), []byte(candidate))
		if err != nil {
			d.Back.Error = "The candidate does not load:\n" + strings.Join(problemLines(err), "\n")
			code = http.StatusUnprocessableEntity
			break
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		rep, err := s.d.Backtest.Backtest(ctx, s.d.Rules.Current(), next, last)
		if err != nil {
			s.d.Log.Warn("console: backtest failed", zap.Error(err))
			d.Back.Error = "The backtest failed: " + err.Error()
			code = http.StatusServiceUnavailable
			if errors.Is(err, context.DeadlineExceeded) {
				d.Back.Error = "The backtest took too long; try fewer messages."
			}
			break
		}
		rep.LiveRules, rep.NewRules = s.d.Rules.Current().File(), "candidate"
		d.Report = rep
	}
	v.Data = d
	s.render(w, r, code, "rules", "Rules", v)
}

// candidateName names a pasted candidate in its problems, placed in the
// directory of the rules in force.
func candidateName(live string) string {
	if i := strings.LastIndexAny(live, `/\`); i >= 0 {
		return live[:i+1] + "candidate"
	}
	return "candidate"
}

// secretValue matches a key whose value may hold a credential in a rules
// file (a webhook url or secret), in block or flow style, and its value.
var secretValue = regexp.MustCompile(`(?m)(\b(?:url|secret)\s*:[ \t]*)("[^"\n]*"|'[^'\n]*'|(?:\$\{[^}\n]*\}|[^\s,}#])+)`)

// envRef is a whole value that only names an environment variable: it
// shows no secret.
var envRef = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)

// RedactRules hides what may be a credential in a rules file: a webhook
// URL keeps its scheme and host, a secret is replaced; a value that is a
// plain ${VAR} reference stays (a ${VAR:-default} does not: its default
// may be the secret).
func RedactRules(text string) string {
	return secretValue.ReplaceAllStringFunc(text, func(m string) string {
		sub := secretValue.FindStringSubmatch(m)
		key, val := sub[1], sub[2]
		raw := strings.Trim(val, `"'`)
		if envRef.MatchString(raw) {
			return m
		}
		if strings.HasPrefix(strings.TrimSpace(key), "url") {
			if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" && !strings.Contains(u.Host, "$") {
				return key + u.Scheme + "://" + u.Host + "/[redacted]"
			}
		}
		return key + "[redacted]"
	})
}
