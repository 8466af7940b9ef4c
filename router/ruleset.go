package router

import (
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// Ruleset is one immutable version of the routing rules; *rules.Rules
// satisfies it.
type Ruleset interface {
	// Classify decides where env goes; safe for concurrent use.
	Classify(env *message.Envelope) rules.Decision
	// Teams lists every team with its delivery targets.
	Teams() []rules.Team
	// Version identifies the rules' content.
	Version() string
}

// RulesFunc returns the rules in force. The router calls it once per
// message and uses that one version for the whole attempt, so a hot reload
// (rules.Live) takes effect with the next message and never in the middle
// of one. With rules.Live:
//
//	router.RulesFunc(func() router.Ruleset { return live.Current() })
type RulesFunc func() Ruleset

// Static returns a RulesFunc that always returns rs.
func Static(rs Ruleset) RulesFunc { return func() Ruleset { return rs } }
