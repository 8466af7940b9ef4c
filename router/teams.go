package router

import (
	"errors"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router/targets"
)

// teamSet is the delivery side of one rules version: every team with its
// built targets. It is immutable once built; a message uses the set of the
// rules version it was classified with for its whole attempt.
type teamSet struct {
	rules   Ruleset
	version string
	teams   map[string]*team
}

// team is one team's targets, or why they could not be built.
type team struct {
	name    string
	targets []*boundTarget
	// err is why some target could not be built (no Redis configured, a bad
	// webhook URL): deliveries to the team fail, transiently, until a rules
	// reload or a restart fixes it.
	err error
}

// boundTarget is a target of one team with its breaker.
type boundTarget struct {
	targets.Target
	id, name string
	br       *breaker
}

// teamCache builds team sets per rules version and keeps the breakers,
// which outlive versions (the same target in the next version keeps its
// state).
type teamCache struct {
	factory         *targets.Factory
	breakerFailures int
	breakerCooldown time.Duration

	mu       sync.Mutex
	cur      *teamSet
	breakers map[string]*breaker
}

func newTeamCache(f *targets.Factory, failures int, cooldown time.Duration) *teamCache {
	return &teamCache{factory: f, breakerFailures: failures, breakerCooldown: cooldown, breakers: map[string]*breaker{}}
}

// snapshot returns the team set of rs, building it on the first use of a
// version. Sets of earlier versions stay alive while messages use them.
func (c *teamCache) snapshot(rs Ruleset) *teamSet {
	v := rs.Version()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.version == v {
		return c.cur
	}
	c.cur = c.build(rs)
	return c.cur
}

// check builds the targets of rs and reports every problem.
func (c *teamCache) check(rs Ruleset) error {
	c.mu.Lock()
	set := c.build(rs)
	c.mu.Unlock()
	var errs []error
	for _, t := range rs.Teams() {
		if tm := set.teams[t.Name]; tm != nil && tm.err != nil {
			errs = append(errs, tm.err)
		}
	}
	return errors.Join(errs...)
}

// build must be called with c.mu held (it shares the breaker map).
func (c *teamCache) build(rs Ruleset) *teamSet {
	set := &teamSet{rules: rs, version: rs.Version(), teams: map[string]*team{}}
	for _, rt := range rs.Teams() {
		tm := &team{name: rt.Name}
		var errs []error
		seen := map[string]bool{}
		for _, spec := range rt.Targets {
			t, err := c.factory.New(rt.Name, spec)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if seen[t.ID()] {
				continue // declared twice: deliver once
			}
			seen[t.ID()] = true
			key := rt.Name + "\x00" + t.ID()
			br := c.breakers[key]
			if br == nil {
				br = newBreaker(c.breakerFailures, c.breakerCooldown)
				c.breakers[key] = br
			}
			tm.targets = append(tm.targets, &boundTarget{Target: t, id: t.ID(), name: t.Name(), br: br})
		}
		tm.err = errors.Join(errs...)
		if len(tm.targets) == 0 && tm.err == nil {
			tm.err = errors.New("team " + rt.Name + " has no delivery target")
		}
		set.teams[rt.Name] = tm
	}
	return set
}
