package router

import (
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/rules"
)

// Reroute headers, set by package router/reroute on the copy of an item it
// publishes to the ingest stream again; plan routes that copy to the
// teams they name instead of asking the rules.
const (
	// HeaderRerouteTeam lists the teams (comma-separated, the new owner
	// first) the operator rerouted the item to. Teams the rules in force
	// do not declare are left out; when none is left the item is routed
	// afresh.
	HeaderRerouteTeam = "Switchboard-Reroute-Team"
	// HeaderRerouteBy names the operator, for the item's history.
	HeaderRerouteBy = "Switchboard-Reroute-By"
	// HeaderRerouteNote is the operator's note, for the item's history.
	HeaderRerouteNote = "Switchboard-Reroute-Note"
)

// reroute is what a rerouted copy's headers say.
type reroute struct {
	teams    []string
	by, note string
}

// rerouteOf reads the reroute headers of msg; no teams when it is not a
// reroute.
func rerouteOf(msg jetstream.Msg) reroute {
	h := msg.Headers()
	if h == nil || h.Get(HeaderRerouteTeam) == "" {
		return reroute{}
	}
	var teams []string
	for _, t := range strings.Split(h.Get(HeaderRerouteTeam), ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	return reroute{teams: teams, by: h.Get(HeaderRerouteBy), note: h.Get(HeaderRerouteNote)}
}

// knownTeams keeps the teams the rules in force declare.
func knownTeams(teams []string, set *teamSet) []string {
	var out []string
	for _, t := range teams {
		if _, ok := set.teams[t]; ok {
			out = append(out, t)
		}
	}
	return out
}

// modelScores turns the model's top three into the decision record's
// scores.
func modelScores(top rules.ModelTop) []decisions.Score {
	if top.Len() == 0 {
		return nil
	}
	out := make([]decisions.Score, 0, top.Len())
	for _, s := range top.List() {
		out = append(out, decisions.Score{Team: s.Team, P: s.P})
	}
	return out
}
