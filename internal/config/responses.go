package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones resolve in minimal containers too

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Responses configures the response tracker: which routed items were
// answered, how fast, and escalation of those that wait past their
// service-level target (docs/responses.md). Zero values are replaced by the
// defaults documented on each field.
type Responses struct {
	// Enabled turns the tracker on (default true).
	Enabled *bool `yaml:"enabled"`
	// Stream holds the responses connectors and team tools publish on
	// <prefix>.response.<channel> (default "SWITCHBOARD_RESPONSES").
	Stream string `yaml:"stream"`
	// EscalationStream holds escalations, on <prefix>.escalation.<team>
	// (default "SWITCHBOARD_ESCALATIONS").
	EscalationStream string `yaml:"escalation_stream"`
	// Bucket is the key-value bucket recording how far each unanswered item
	// was escalated (default "switchboard_escalated").
	Bucket string `yaml:"bucket"`
	// MaxAge is how long responses and escalations are kept (default 90d).
	MaxAge yamlfile.Duration `yaml:"max_age"`
	// MatchWindow is how long a response that answers nothing routed yet
	// waits for its item to be routed (default 24h): the router may lag
	// behind the connectors after an outage.
	MatchWindow yamlfile.Duration `yaml:"match_window"`
	// ForgetAfter is the age after which an unanswered item leaves the open
	// set (default 14d); its decision record keeps it. It must exceed the
	// longest target times the last escalation level.
	ForgetAfter yamlfile.Duration `yaml:"forget_after"`
	// CheckInterval is how often due escalations are looked for (default 15s).
	CheckInterval yamlfile.Duration `yaml:"check_interval"`
	// TimeZone is the zone of calendars that name none (default
	// "Europe/Helsinki").
	TimeZone string `yaml:"time_zone"`
	// Calendars are named business hours that service levels refer to.
	// "24/7" is built in.
	Calendars map[string]Calendar `yaml:"calendars"`
	// ServiceLevels are the first-response targets.
	ServiceLevels ServiceLevels `yaml:"service_levels"`
	// Escalation says when and where an item past its target is escalated.
	Escalation Escalation `yaml:"escalation"`
}

// On reports whether the response tracker is enabled.
func (r Responses) On() bool { return r.Enabled == nil || *r.Enabled }

// AlwaysOpen is the built-in calendar name for 24/7.
const AlwaysOpen = "24/7"

// Calendar is one set of business hours.
type Calendar struct {
	// TimeZone is an IANA zone (default: responses.time_zone).
	TimeZone string `yaml:"time_zone"`
	// Days are the open weekdays: mon, tue, wed, thu, fri, sat, sun
	// (default mon to fri).
	Days []string `yaml:"days"`
	// Open and Close are the daily hours, "08:00" and "16:00" (default);
	// Close may be "24:00".
	Open  string `yaml:"open"`
	Close string `yaml:"close"`
	// Holidays are dates (YYYY-MM-DD) closed all day.
	Holidays []string `yaml:"holidays"`
}

// ServiceLevels are the first-response targets: a default for every team,
// and per-team settings that take precedence.
type ServiceLevels struct {
	// Default applies to every team, for what its own entry leaves out.
	Default ServiceLevel `yaml:"default"`
	// Teams maps a team name (as in the rules) to its settings.
	Teams map[string]ServiceLevel `yaml:"teams"`
}

// ServiceLevel is one team's (or the default) first-response targets.
type ServiceLevel struct {
	// Calendar names the business hours targets are counted in: "24/7" or
	// a key of responses.calendars (default: the default's, else 24/7).
	Calendar string `yaml:"calendar"`
	// Targets maps what an item is to its first-response target. Keys, most
	// specific first: "<channel>/<kind>" (facebook/message), "<channel>"
	// (email), "public" (posts, comments, replies, mentions) or "private"
	// (Messenger, DMs, mail, web forms), "any".
	Targets map[string]yamlfile.Duration `yaml:"targets"`
	// Priority multiplies the target by priority (low, normal, high,
	// urgent), e.g. high: 0.5 halves it.
	Priority map[string]float64 `yaml:"priority"`
}

// Escalation configures escalation of items past their target.
type Escalation struct {
	// Levels are multiples of the target at which an item is escalated,
	// once each (default [1, 2]: at the target and at twice it).
	Levels []float64 `yaml:"levels"`
	// Webhook, when its URL is set, receives every escalation too.
	Webhook EscalationWebhook `yaml:"webhook"`
}

// EscalationWebhook is an HTTP endpoint escalations are posted to.
type EscalationWebhook struct {
	// URL is the endpoint (a Slack incoming webhook holds a secret, so it is
	// a Secret; URLFile reads it from a file).
	URL     secret.Secret `yaml:"url"`
	URLFile string        `yaml:"url_file"`
	// Format is "slack" ({"text": ...}, default) or "json" (the escalation).
	Format string `yaml:"format"`
	// Timeout bounds one request (default 10s).
	Timeout yamlfile.Duration `yaml:"timeout"`
	// MaxAttempts bounds the tries of one escalation (default 20, with
	// backoff from 1s up to 10m between them).
	MaxAttempts int `yaml:"max_attempts"`
}

// priorities are the priorities the rules can assign.
var priorities = []string{"low", "normal", "high", "urgent"}

// ParseWeekday parses a calendar day name (mon … sun, or the full English
// name), ignoring case.
func ParseWeekday(s string) (time.Weekday, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if name == full || name == full[:3] {
			return d, nil
		}
	}
	return 0, fmt.Errorf("day %q: use mon, tue, wed, thu, fri, sat or sun", s)
}

// ParseClock parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("time %q: want HH:MM between 00:00 and 24:00", s)
	}
	return hh*60 + mm, nil
}

// ParseDate parses a holiday, YYYY-MM-DD.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

// TargetClass returns "public" or "private" for an item kind: posts,
// comments, replies and mentions are read by everyone; Messenger, DMs,
// mail and web forms by the company alone.
func TargetClass(kind string) string {
	switch message.Kind(kind) {
	case message.KindPost, message.KindComment, message.KindReply, message.KindMention:
		return "public"
	}
	return "private"
}

// validate reports problems in the responses section at p and fills in
// defaults. others are the stream names already in use.
func (r *Responses) validate(p yamlfile.Path, others []string, report func(yamlfile.Path, string, ...any)) {
	defString(&r.Stream, "SWITCHBOARD_RESPONSES")
	defString(&r.EscalationStream, "SWITCHBOARD_ESCALATIONS")
	defString(&r.Bucket, "switchboard_escalated")
	defString(&r.TimeZone, "Europe/Helsinki")
	defDuration(&r.MaxAge, 90*24*time.Hour)
	defDuration(&r.MatchWindow, 24*time.Hour)
	defDuration(&r.ForgetAfter, 14*24*time.Hour)
	defDuration(&r.CheckInterval, 15*time.Second)
	if len(r.Escalation.Levels) == 0 {
		r.Escalation.Levels = []float64{1, 2}
	}
	wh := &r.Escalation.Webhook
	defString(&wh.Format, "slack")
	defDuration(&wh.Timeout, 10*time.Second)
	if wh.MaxAttempts == 0 {
		wh.MaxAttempts = 20
	}

	for _, s := range []struct{ key, name string }{{"stream", r.Stream}, {"escalation_stream", r.EscalationStream}, {"bucket", r.Bucket}} {
		if !validStreamName(s.name) {
			report(p.Child(s.key), "%s %q: use letters, digits, '-' or '_'", s.key, s.name)
		} else if slices.Contains(others, s.name) {
			report(p.Child(s.key), "%s %q is already used by another stream or bucket", s.key, s.name)
		}
	}
	if r.Stream == r.EscalationStream {
		report(p.Child("escalation_stream"), "escalation_stream must differ from stream")
	}
	if r.MaxAge < yamlfile.Duration(24*time.Hour) {
		report(p.Child("max_age"), "max_age must be at least 24h (it bounds the responses' duplicate window)")
	}
	if r.MatchWindow < yamlfile.Duration(time.Minute) || r.MatchWindow > r.ForgetAfter {
		report(p.Child("match_window"), "match_window must be between 1m and forget_after (%s)", r.ForgetAfter)
	}
	if r.ForgetAfter < yamlfile.Duration(time.Hour) || r.ForgetAfter > r.MaxAge {
		report(p.Child("forget_after"), "forget_after must be between 1h and max_age (%s)", r.MaxAge)
	}
	if r.CheckInterval < yamlfile.Duration(time.Second) || r.CheckInterval > yamlfile.Duration(10*time.Minute) {
		report(p.Child("check_interval"), "check_interval must be between 1s and 10m")
	}
	if _, err := time.LoadLocation(r.TimeZone); err != nil || r.TimeZone == "Local" {
		report(p.Child("time_zone"), "time_zone %q: want an IANA zone such as Europe/Helsinki", r.TimeZone)
	}
	for name, c := range r.Calendars {
		cp := p.Child("calendars").Child(name)
		if name == AlwaysOpen || !message.ValidToken(name) {
			report(cp, "calendar name %q: use lowercase letters, digits, '-' or '_' (24/7 is built in)", name)
		}
		c.validate(cp, report)
		r.Calendars[name] = c
	}

	levels := r.Escalation.Levels
	for i, l := range levels {
		if l <= 0 || l > 100 || (i > 0 && l <= levels[i-1]) {
			report(p.Child("escalation").Child("levels").Child(i), "levels must be positive multiples of the target, increasing, at most 100")
			break
		}
	}
	if len(levels) > 8 {
		report(p.Child("escalation").Child("levels"), "at most 8 escalation levels")
	}
	sp := p.Child("service_levels")
	longest := r.ServiceLevels.Default.validate(sp.Child("default"), r.Calendars, report)
	for team, sl := range r.ServiceLevels.Teams {
		tp := sp.Child("teams").Child(team)
		if !message.ValidToken(team) {
			report(tp, "team %q: use lowercase letters, digits, '-' or '_'", team)
		}
		longest = max(longest, sl.validate(tp, r.Calendars, report))
	}
	if n := len(levels); n > 0 && longest > 0 {
		if last := time.Duration(float64(longest) * levels[n-1]); last >= time.Duration(r.ForgetAfter) {
			report(p.Child("forget_after"), "forget_after (%s) must exceed the longest target times the last level (%s), or items are forgotten before they escalate",
				r.ForgetAfter, last)
		}
	}
	wp := p.Child("escalation").Child("webhook")
	if wh.URL != "" {
		key := "url"
		if wh.URLFile != "" {
			key = "url_file"
		}
		if u, err := url.Parse(wh.URL.Reveal()); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			report(wp.Child(key), "webhook url must be an http(s) URL") // never repeat it: it is a secret
		}
	}
	if wh.Format != "slack" && wh.Format != "json" {
		report(wp.Child("format"), "format %q: use slack or json", wh.Format)
	}
	if wh.Timeout <= 0 || wh.Timeout > yamlfile.Duration(5*time.Minute) {
		report(wp.Child("timeout"), "timeout must be between 1ms and 5m")
	}
	if wh.MaxAttempts < 1 || wh.MaxAttempts > 1000 {
		report(wp.Child("max_attempts"), "max_attempts must be between 1 and 1000")
	}
}

func (c *Calendar) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {
	if len(c.Days) == 0 {
		c.Days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	defString(&c.Open, "08:00")
	defString(&c.Close, "16:00")
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "Local" {
			report(p.Child("time_zone"), "time_zone %q: want an IANA zone such as Europe/Helsinki", c.TimeZone)
		}
	}
	seen := map[time.Weekday]bool{}
	for i, d := range c.Days {
		wd, err := ParseWeekday(d)
		if err != nil {
			report(p.Child("days").Child(i), "%v", err)
		} else if seen[wd] {
			report(p.Child("days").Child(i), "day %q is listed twice", d)
		}
		seen[wd] = true
	}
	open, err := ParseClock(c.Open)
	if err != nil {
		report(p.Child("open"), "open %v", err)
	}
	cl, err2 := ParseClock(c.Close)
	if err2 != nil {
		report(p.Child("close"), "close %v", err2)
	}
	if err == nil && err2 == nil && open >= cl {
		report(p.Child("close"), "close (%s) must be after open (%s)", c.Close, c.Open)
	}
	for i, h := range c.Holidays {
		if _, err := ParseDate(h); err != nil {
			report(p.Child("holidays").Child(i), "holiday %v", err)
		}
	}
}

// validate checks one service level and returns its longest target.
func (s *ServiceLevel) validate(p yamlfile.Path, calendars map[string]Calendar, report func(yamlfile.Path, string, ...any)) time.Duration {
	if s.Calendar != "" && s.Calendar != AlwaysOpen {
		if _, ok := calendars[s.Calendar]; !ok {
			report(p.Child("calendar"), "calendar %q is not defined in responses.calendars (or use %s)", s.Calendar, AlwaysOpen)
		}
	}
	var longest time.Duration
	for key, d := range s.Targets {
		kp := p.Child("targets").Child(key)
		if msg := checkTargetKey(key); msg != "" {
			report(kp, "%s", msg)
		}
		if d <= 0 || d > yamlfile.Duration(90*24*time.Hour) {
			report(kp, "target for %s must be between 1s and 90d", key)
		}
		longest = max(longest, time.Duration(d))
	}
	for prio, f := range s.Priority {
		pp := p.Child("priority").Child(prio)
		if !slices.Contains(priorities, prio) {
			report(pp, "priority %q: use low, normal, high or urgent", prio)
		}
		if f <= 0 || f > 10 {
			report(pp, "priority factor must be above 0 and at most 10")
		}
		longest = max(longest, time.Duration(float64(longest)*max(f, 1)))
	}
	return longest
}

// checkTargetKey explains what is wrong with a targets key, or returns "".
func checkTargetKey(key string) string {
	switch key {
	case "any", "public", "private":
		return ""
	}
	channel, kind, hasKind := strings.Cut(key, "/")
	if !message.ValidToken(channel) {
		return fmt.Sprintf("target key %q: use any, public, private, a channel (email) or channel/kind (facebook/message)", key)
	}
	if hasKind && !message.Kind(kind).Valid() {
		return fmt.Sprintf("target key %q: unknown kind %q (post, comment, reply, message, mention, dm, email, web)", key, kind)
	}
	return ""
}

func defString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}
