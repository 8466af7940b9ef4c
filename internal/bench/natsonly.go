package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/rules"
)

// natsOnlyRules is a ruleset whose teams deliver to NATS only.
type natsOnlyRules struct {
	*rules.Rules
	teams []rules.Team
}

// Teams returns the teams with NATS targets only.
func (r natsOnlyRules) Teams() []rules.Team { return r.teams }

// NATSOnly returns rs with every team that has a redis or webhook target
// delivering to its NATS queue instead, so a bench touches nothing outside
// the process, and one line per changed team saying so (never a
// credential: a target prints as its kind and host).
func NATSOnly(rs *rules.Rules) (router.Ruleset, []string) {
	teams := slices.Clone(rs.Teams())
	var replaced []string
	for i, t := range teams {
		var others []string
		for _, tg := range t.Targets {
			if tg.Type != targetspec.NATS {
				others = append(others, tg.String())
			}
		}
		if len(others) == 0 {
			continue
		}
		teams[i].Targets = []targetspec.Spec{{Type: targetspec.NATS}}
		replaced = append(replaced, fmt.Sprintf("team %s: %s replaced by the team's NATS queue", t.Name, strings.Join(others, ", ")))
	}
	if len(replaced) == 0 {
		return rs, nil
	}
	return natsOnlyRules{Rules: rs, teams: teams}, replaced
}
