package rules

import (
	"bytes"
	"regexp"
	"slices"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// lintBudget bounds the lint's work, counted as the product of the sizes of
// the two conditions compared (the subset tests are quadratic).
const lintBudget = 1_000_000_000

// condSize is a condition's size for the lint's budget: its entries, at
// least 1.
func condSize(c *cond) int {
	n := 1 + len(c.channel) + len(c.kind) + len(c.lang) + len(c.any) + len(c.none) + len(c.regex) + len(c.metadata)
	for _, g := range c.all {
		n += len(g)
	}
	return n
}

// lint finds routes that can never match: a route without continue (or a
// noise route) stops its siblings after it, so a later sibling whose every
// match it would also match is dead. The check is conservative: it reports
// only what it can prove from the conditions as written (sets of channels,
// words and so on), never a guess.
//
// The comparison is pairwise among siblings, so its cost is bounded by
// lintBudget (about a second): a file too large to check completely gets a
// warning saying so instead of a reload that takes minutes.
func (b *builder) lint() {
	// Siblings by scope, in file order.
	scopes := map[int32][]int32{}
	for i, r := range b.routes {
		scopes[r.parent] = append(scopes[r.parent], int32(i))
	}
	work := 0
	for parent, sibs := range scopes {
		if parent >= 0 && b.routes[parent].best {
			continue // siblings are scored, none stops the others
		}
		for k, later := range sibs {
			for _, earlier := range sibs[:k] {
				e := b.routes[earlier]
				if e.cont && !e.noise {
					continue
				}
				if work += condSize(&e.cond) * condSize(&b.routes[later].cond); work > lintBudget {
					b.warn(yamlfile.Path{"routes"}, "the check for routes that can never match stopped early: the file has too many routes or words to compare every pair")
					return
				}
				if implies(&b.routes[later].cond, &e.cond) {
					why := "has no continue: true"
					if e.noise {
						why = "is noise"
					}
					b.report(b.routes[later].path, "route %q can never match: route %s %s and matches everything this one would",
						b.routes[later].id, b.describe(earlier), why)
					break
				}
			}
		}
	}
}

// implies reports whether every item that satisfies b also satisfies a
// (b ⇒ a), as far as can be proven condition by condition.
func implies(b, a *cond) bool {
	return listImplies(b.channel, a.channel) &&
		listImplies(b.kind, a.kind) &&
		listImplies(b.lang, a.lang) &&
		(a.thread == threadAny || a.thread == b.thread) &&
		authorImplies(b, a) &&
		metadataImplies(b, a) &&
		len(a.tags) == 0 && // tags change during evaluation: not provable
		anyImplies(b, a) &&
		allImplies(b, a) &&
		subset(a.none, b.none) &&
		regexImplies(b.regex, a.regex) &&
		modelImplies(b, a)
}

// listImplies: b's list condition implies a's when a has none, or b allows
// only values a allows.
func listImplies[T comparable](b, a []T) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, v := range b {
		if !slices.Contains(a, v) {
			return false
		}
	}
	return true
}

// globsImply is listImplies for globs, where a "*" in a allows every value.
func globsImply(b, a []glob) bool {
	if slices.ContainsFunc(a, func(g glob) bool { return g.pat == "*" }) {
		return true
	}
	return listImplies(b, a)
}

func authorImplies(b, a *cond) bool {
	for f := range numAuthorFields {
		if !globsImply(b.author[f], a.author[f]) {
			return false
		}
	}
	return true
}

func metadataImplies(b, a *cond) bool {
	for _, am := range a.metadata {
		i := slices.IndexFunc(b.metadata, func(m metaCond) bool { return m.key == am.key })
		if i < 0 {
			return false
		}
		if !globsImply(b.metadata[i].globs, am.globs) {
			return false
		}
	}
	return true
}

// subset reports whether every id of x is in y.
func subset(x, y []int32) bool {
	for _, v := range x {
		if !slices.Contains(y, v) {
			return false
		}
	}
	return true
}

// anyImplies: a's text.any holds whenever b holds if b's text.any only has
// words of a's, or one of b's text.all groups does.
func anyImplies(b, a *cond) bool {
	if len(a.any) == 0 {
		return true
	}
	if len(b.any) > 0 && subset(b.any, a.any) {
		return true
	}
	for _, g := range b.all {
		if subset(g, a.any) {
			return true
		}
	}
	return false
}

// allImplies: each of a's text.all groups must be implied by one of b's
// groups or by b's text.any.
func allImplies(b, a *cond) bool {
	for _, ga := range a.all {
		ok := len(b.any) > 0 && subset(b.any, ga)
		for _, gb := range b.all {
			if ok {
				break
			}
			ok = subset(gb, ga)
		}
		if !ok {
			return false
		}
	}
	return true
}

func regexImplies(b, a []*regexp.Regexp) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, rb := range b {
		if !slices.ContainsFunc(a, func(ra *regexp.Regexp) bool { return ra.String() == rb.String() }) {
			return false
		}
	}
	return true
}

// cutShort warns about signs of a file cut short (a truncated copy, an
// interrupted save): no routes at all, or no line break at the end. Such a
// file is valid, and would send every item to the default team.
func (b *builder) cutShort(f *File, file string, data []byte) {
	if len(f.Routes) == 0 {
		b.warn(yamlfile.Path{"routes"}, "the file has no routes: every item that is not noise goes to default_team %q; is the file cut short?", f.DefaultTeam)
	}
	if n := len(data); n > 0 && data[n-1] != '\n' {
		line := 1 + bytes.Count(data, []byte{'\n'})
		b.warns.Add(&yamlfile.Error{File: file, Line: line, Col: 1, Msg: "warning: the file does not end with a line break; is it cut short?"})
	}
}
