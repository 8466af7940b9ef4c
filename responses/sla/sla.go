// Package sla answers, for a routed item, its first-response target and
// when it is due at each escalation level, from the service levels ops set
// in config.yaml (responses.service_levels, docs/responses.md): a target
// per team, channel, kind or public/private, shortened by priority, counted
// in the team's business hours.
package sla

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/responses/businesshours"
)

// Policy is the service levels in force. It is immutable and safe for
// concurrent use.
type Policy struct {
	levels    []float64
	def       level
	teams     map[string]level
	calendars map[string]*businesshours.Calendar
}

type level struct {
	calendar string
	targets  map[string]time.Duration
	priority map[string]float64
}

// Item is what an item's service level depends on.
type Item struct {
	// Team is the team the item was routed to; Channel, Kind and Priority
	// are the item's.
	Team, Channel, Kind, Priority string
	// Created is when the customer wrote the item; targets count from it.
	Created time.Time
}

// Target is an item's service level.
type Target struct {
	// Target is the first-response target, after the priority factor.
	Target time.Duration
	// Calendar names the business hours it is counted in ("24/7" or a
	// calendar of responses.calendars).
	Calendar string
	// Due holds when the item is due at each escalation level: level i+1
	// at Due[i] (the target times the level's multiple, counted in the
	// calendar's open hours from Created).
	Due []time.Time
}

// New builds the policy from a validated configuration.
func New(c config.Responses) (*Policy, error) {
	p := &Policy{
		levels:    append([]float64(nil), c.Escalation.Levels...),
		def:       newLevel(c.ServiceLevels.Default),
		teams:     make(map[string]level, len(c.ServiceLevels.Teams)),
		calendars: map[string]*businesshours.Calendar{config.AlwaysOpen: businesshours.Always()},
	}
	if len(p.levels) == 0 {
		p.levels = []float64{1}
	}
	for team, sl := range c.ServiceLevels.Teams {
		p.teams[team] = newLevel(sl)
	}
	for name, cc := range c.Calendars {
		cal, err := newCalendar(cc, c.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("responses.calendars.%s: %w", name, err)
		}
		p.calendars[name] = cal
	}
	for _, l := range append([]level{p.def}, values(p.teams)...) {
		if _, ok := p.calendars[l.calendar]; l.calendar != "" && !ok {
			return nil, fmt.Errorf("service levels: calendar %q is not defined", l.calendar)
		}
	}
	return p, nil
}

func values(m map[string]level) []level {
	out := make([]level, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	return out
}

func newLevel(sl config.ServiceLevel) level {
	l := level{calendar: sl.Calendar, targets: make(map[string]time.Duration, len(sl.Targets)), priority: sl.Priority}
	for k, d := range sl.Targets {
		l.targets[k] = time.Duration(d)
	}
	return l
}

func newCalendar(c config.Calendar, defaultZone string) (*businesshours.Calendar, error) {
	zone := c.TimeZone
	if zone == "" {
		zone = defaultZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", zone, err)
	}
	open, err := config.ParseClock(c.Open)
	if err != nil {
		return nil, err
	}
	closeAt, err := config.ParseClock(c.Close)
	if err != nil {
		return nil, err
	}
	var week businesshours.Week
	for _, d := range c.Days {
		wd, err := config.ParseWeekday(d)
		if err != nil {
			return nil, err
		}
		week[wd] = []businesshours.Span{{Start: open, End: closeAt}}
	}
	var holidays []businesshours.Date
	for _, h := range c.Holidays {
		t, err := config.ParseDate(h)
		if err != nil {
			return nil, err
		}
		holidays = append(holidays, businesshours.DateOf(t))
	}
	return businesshours.New(loc, week, holidays)
}

// Levels is the number of escalation levels.
func (p *Policy) Levels() int { return len(p.levels) }

// Calendar returns the named calendar (nil when there is none).
func (p *Policy) Calendar(name string) *businesshours.Calendar { return p.calendars[name] }

// Target returns it's service level; ok is false when no target applies
// (the item is tracked for responses but never escalated).
func (p *Policy) Target(it Item) (t Target, ok bool) {
	team, hasTeam := p.teams[it.Team]
	keys := [4]string{it.Channel + "/" + it.Kind, it.Channel, config.TargetClass(it.Kind), "any"}
	var target time.Duration
	if hasTeam {
		target, ok = lookup(team.targets, keys)
	}
	if !ok {
		target, ok = lookup(p.def.targets, keys)
	}
	if !ok {
		return Target{}, false
	}
	prio := it.Priority
	if prio == "" {
		prio = "normal"
	}
	factor, found := team.priority[prio]
	if !found {
		factor, found = p.def.priority[prio]
	}
	if found {
		target = time.Duration(float64(target) * factor)
	}
	name := team.calendar
	if name == "" {
		name = p.def.calendar
	}
	if name == "" {
		name = config.AlwaysOpen
	}
	cal := p.calendars[name]
	t = Target{Target: target, Calendar: name, Due: make([]time.Time, len(p.levels))}
	for i, m := range p.levels {
		t.Due[i] = cal.Add(it.Created, time.Duration(float64(target)*m))
	}
	return t, true
}

func lookup(targets map[string]time.Duration, keys [4]string) (time.Duration, bool) {
	for _, k := range keys {
		if d, ok := targets[k]; ok {
			return d, true
		}
	}
	return 0, false
}
