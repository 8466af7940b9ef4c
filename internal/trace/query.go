package trace

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/router/decisions"
)

// MaxLimit is the most records one search returns.
const MaxLimit = 500

// ParseQuery reads a search from URL parameters: team, channel, outcome,
// thread, customer, q (text), since and until (an RFC 3339 time, or a
// duration such as 2h or 7d meaning that long before now), limit (1 to
// MaxLimit) and before (the next cursor of a previous page). Errors name
// the parameter.
func ParseQuery(v url.Values, now time.Time) (decisions.Query, error) {
	q := decisions.Query{
		Team:     strings.TrimSpace(v.Get("team")),
		Channel:  strings.TrimSpace(v.Get("channel")),
		Outcome:  strings.TrimSpace(v.Get("outcome")),
		Thread:   v.Get("thread"),
		Customer: v.Get("customer"),
		Text:     strings.TrimSpace(v.Get("q")),
	}
	var err error
	if q.Since, err = ParseTime(v.Get("since"), now); err != nil {
		return q, fmt.Errorf("since: %w", err)
	}
	if q.Until, err = ParseTime(v.Get("until"), now); err != nil {
		return q, fmt.Errorf("until: %w", err)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, fmt.Errorf("until (%s) is before since (%s)", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Errorf("limit %q: use a number from 1 to %d", s, MaxLimit)
		}
		q.Limit = n
	}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return q, fmt.Errorf("before %q: use the next value of the previous page", s)
		}
		q.Before = n
	}
	switch q.Outcome {
	case "", decisions.OutcomeRouted, decisions.OutcomeNoise, decisions.OutcomeDead:
	default:
		return q, fmt.Errorf("outcome %q: use routed, noise or dead", q.Outcome)
	}
	return q, nil
}

// ParseTime reads an RFC 3339 time, or a duration meaning that long before
// now; "" is the zero time.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := yamlfile.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: use an RFC 3339 time (2026-12-01T10:00:00Z) or a duration such as 2h or 7d", s)
}

// Values is q as URL parameters (ParseQuery reads them back), for links to
// a search and its next page.
func Values(q decisions.Query) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("team", q.Team)
	set("channel", q.Channel)
	set("outcome", q.Outcome)
	set("thread", q.Thread)
	set("customer", q.Customer)
	set("q", q.Text)
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Before > 0 {
		v.Set("before", strconv.FormatUint(q.Before, 10))
	}
	return v
}
