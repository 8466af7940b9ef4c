package rules

import (
	"fmt"
	"strings"
)

// A truncated rules file is still valid YAML and valid rules: cut after
// "routes:" it has no routes, and every item would go to the default team
// (issue 11 item 6). The guard compares the rules a reload would put in use
// with the running ones and names what would be lost; Watch refuses such a
// reload unless it is forced (WatchOptions.Force), and rules check
// --against warns about it.

// ReloadRefusedError is a reload the guard refused: the new rules are
// valid, but they would take away what the running rules route to.
type ReloadRefusedError struct {
	// Version is the refused content's version.
	Version string
	// Reasons say what the new rules would lose, one sentence each.
	Reasons []string
}

// Error lists the reasons and how to force the reload.
func (e *ReloadRefusedError) Error() string {
	return fmt.Sprintf("rules version %s refused: %s; if that is intended, force the reload (switchboard rules reload --force, or SIGUSR1)",
		e.Version, strings.Join(e.Reasons, "; "))
}

// GuardReload returns why candidate should not replace running unless the
// reload is forced, or nothing when it may:
//
//   - it has no routes while the running rules have some;
//   - it has fewer than half of the running rules' routes;
//   - it removes a team that queued or retrying items still reference.
//
// inUse says whether a team is still referenced; nil means nobody can tell,
// and every removed team counts as referenced.
func GuardReload(running, candidate *Rules, inUse func(team string) bool) []string {
	var reasons []string
	before, after := len(running.routes), len(candidate.routes)
	switch {
	case after == 0 && before > 0:
		reasons = append(reasons, fmt.Sprintf("the new rules have no routes (the running ones have %d): every item would go to %s; is the file cut short?", before, candidate.DefaultTeam()))
	case after*2 < before:
		reasons = append(reasons, fmt.Sprintf("the new rules have %d routes, fewer than half of the running %d; is the file cut short?", after, before))
	}
	kept := map[string]bool{}
	for _, t := range candidate.teams {
		kept[t.Name] = true
	}
	for _, t := range running.teams {
		switch {
		case kept[t.Name]:
		case inUse == nil:
			reasons = append(reasons, fmt.Sprintf("the new rules remove team %q, which queued or retrying items may still reference", t.Name))
		case inUse(t.Name):
			reasons = append(reasons, fmt.Sprintf("the new rules remove team %q, which queued or retrying items still reference", t.Name))
		}
	}
	return reasons
}
