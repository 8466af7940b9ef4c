// Package businesshours counts time in open hours: a weekly schedule in a
// time zone, with holidays. A service-level target such as "8 business
// hours" is counted only while the team is open, so an item that arrives on
// Friday at 17:00 with an 8h target is due on Monday, not on Saturday.
//
// Time is counted on the local wall clock of the calendar's zone, minute by
// minute in meaning (an instant is open when its local weekday, date and
// minute of the day are), but computed interval by interval, so adding a
// week of open time takes a few dozen steps. Daylight-saving changes are
// handled: on the night the clocks go forward the skipped hour is never
// open, and on the night they go back the repeated hour counts twice if it
// is open.
package businesshours

import (
	"errors"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // Europe/Helsinki and friends also in minimal containers
)

// MinutesPerDay is the end of a day, as a Span bound.
const MinutesPerDay = 24 * 60

// Span is one open period of a day: [Start, End) in minutes after local
// midnight, 0 ≤ Start < End ≤ MinutesPerDay.
type Span struct{ Start, End int }

// Week holds each weekday's open spans, indexed by time.Weekday (Sunday 0).
type Week [7][]Span

// Date is a calendar day in the calendar's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the local date of t.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String renders d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Calendar is a weekly schedule of open hours in a time zone, with
// holidays on which it is closed all day. The zero Calendar is not usable;
// use New or Always. A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	week     Week
	holidays map[Date]bool
	always   bool
}

// Always returns the calendar that is open at every instant (24/7).
func Always() *Calendar { return &Calendar{loc: time.UTC, always: true} }

// New returns a calendar open during week's spans in loc, except on
// holidays. Spans of a day may be given in any order but must not
// overlap; the week must have some open time.
func New(loc *time.Location, week Week, holidays []Date) (*Calendar, error) {
	if loc == nil {
		return nil, errors.New("business hours: a time zone is required")
	}
	c := &Calendar{loc: loc, holidays: make(map[Date]bool, len(holidays))}
	open := false
	for d := range week {
		spans := slices.Clone(week[d])
		slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
		for i, s := range spans {
			if s.Start < 0 || s.End > MinutesPerDay || s.Start >= s.End {
				return nil, fmt.Errorf("business hours: %s span %s is not a period within the day", time.Weekday(d), s)
			}
			if i > 0 && s.Start < spans[i-1].End {
				return nil, fmt.Errorf("business hours: %s spans %s and %s overlap", time.Weekday(d), spans[i-1], s)
			}
			open = true
		}
		c.week[d] = spans
	}
	if !open {
		return nil, errors.New("business hours: the week has no open hours")
	}
	for _, h := range holidays {
		c.holidays[h] = true
	}
	return c, nil
}

// String renders s as HH:MM-HH:MM.
func (s Span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.Start/60, s.Start%60, s.End/60, s.End%60)
}

// Location is the calendar's time zone (UTC for Always).
func (c *Calendar) Location() *time.Location { return c.loc }

// IsAlways reports whether the calendar is open at every instant.
func (c *Calendar) IsAlways() bool { return c.always }

// Open reports whether t falls in open hours.
func (c *Calendar) Open(t time.Time) bool {
	if c.always {
		return true
	}
	l := t.In(c.loc)
	if c.holidays[DateOf(l)] {
		return false
	}
	m := l.Hour()*60 + l.Minute()
	for _, s := range c.week[l.Weekday()] {
		if m >= s.Start && m < s.End {
			return true
		}
	}
	return false
}

// maxSteps bounds Add's walk. A valid calendar opens at least once a week,
// so this allows thousands of years of targets; it only keeps a bug from
// looping forever.
const maxSteps = 10_000_000

// Add returns the instant at which d of open time has passed since t: t
// itself for d ≤ 0, else the end of the d-th open stretch counted from t
// (from the next opening when t is closed).
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	if c.always {
		return t.Add(d)
	}
	x := t
	for range maxSteps {
		next := c.nextChange(x)
		if c.Open(x) {
			if avail := next.Sub(x); avail >= d {
				return x.Add(d)
			} else {
				d -= avail
			}
		}
		x = next
	}
	return x.Add(d)
}

// Between returns the open time in [a, b) (0 when b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if c.always {
		return b.Sub(a)
	}
	var sum time.Duration
	x := a
	for range maxSteps {
		if !x.Before(b) {
			break
		}
		next := c.nextChange(x)
		if next.After(b) {
			next = b
		}
		if c.Open(x) {
			sum += next.Sub(x)
		}
		x = next
	}
	return sum
}

// nextChange returns the first instant after x at which Open may change:
// the next span bound or local midnight on x's wall clock, or the end of
// x's zone offset (a daylight-saving change), whichever comes first. Open
// is constant on [x, nextChange(x)).
func (c *Calendar) nextChange(x time.Time) time.Time {
	l := x.In(c.loc)
	pos := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute +
		time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
	bound := MinutesPerDay
	for _, s := range c.week[l.Weekday()] {
		for _, b := range [2]int{s.Start, s.End} {
			if time.Duration(b)*time.Minute > pos && b < bound {
				bound = b
			}
		}
	}
	next := x.Add(time.Duration(bound)*time.Minute - pos)
	if _, end := l.ZoneBounds(); !end.IsZero() && end.Before(next) {
		next = end
	}
	return next
}
