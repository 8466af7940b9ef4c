package rules

// mode: best. The first matching route in file order decides, which lets a
// tie-break order beat the customer's main ask: "maksoin MobilePaylla mutta
// paketti ei ole tullut" is about a parcel that did not come, not about a
// payment. Under a parent with mode: best every child route is tried and
// scored, and the one with the highest score decides; file order breaks
// ties.
//
// A child's score is what the text says for it:
//
//   - each distinct word or phrase of its text.any and text.all that occurs
//     counts its number of words (a phrase says more than a word: "ei ole
//     tullut" is 3, "paketti" 1), twice when it occurs in the subject (where
//     people name their matter); a text.regex that matched counts 1;
//   - plus the score of its best matching child route, and so on down, so
//     that the words of a sub-topic ("ei ole tullut" under logistics) count
//     for the topic;
//   - plus ModelWeight times the model's probability that the child's team
//     owns the item, when the rules have a model (or ClassifyWith is given
//     one).
//
// Not scored, on purpose: how often a word repeats (a long mail quoting the
// same word says no more), where in the text a word stands (the main ask is
// as often after "mutta" as before it), and negation ("en halua hyvitystä"
// still names a refund; write text.none for what must not match).

// Model is a classifier's opinion of one item, given to ClassifyWith and
// ExplainWith in place of the rules' own model (Opinion is one).
type Model interface {
	// TeamScore is the probability, from 0 to 1, that team owns the item
	// (NoiseLabel: that it is noise).
	TeamScore(team string) float64
}

// ModelWeight is what a Model's probability of 1 is worth in a score: as
// much as a three-word phrase.
const ModelWeight = 3.0

// scoreTerms lists the distinct terms of a route's text.any and text.all.
func scoreTerms(c *cond) []int32 {
	var out []int32
	seen := map[int32]bool{}
	add := func(ids []int32) {
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	add(c.any)
	for _, g := range c.all {
		add(g)
	}
	return out
}

// scorer is what scoring needs from an evaluation: which terms occur (in
// the subject), and whether a route's conditions hold. Both Classify's
// state and Explain's explainer are scorers, so that they score alike.
type scorer interface {
	termHit(t int32) bool
	termInSubject(t int32) bool
	routeHolds(i int32) bool
	// modelScore is the model's probability of a label, and whether
	// there is a model.
	modelScore(label int32) (float64, bool)
}

// wordScore is route i's own words' score.
func (r *Rules) wordScore(sc scorer, i int32) float64 {
	rt := r.routes[i]
	total := 0.0
	for _, t := range rt.score {
		if !sc.termHit(t) {
			continue
		}
		w := float64(len(r.terms[t].forms[0].toks))
		if sc.termInSubject(t) {
			w *= 2
		}
		total += w
	}
	if rt.scoreRegex {
		total++
	}
	return total
}

// pathScore is route i's words' score plus that of its best child route
// whose conditions hold.
func (r *Rules) pathScore(sc scorer, i int32) float64 {
	best := 0.0
	rt := r.routes[i]
	for c := i + 1; c < rt.end; c = r.routes[c].end {
		if sc.routeHolds(c) {
			best = max(best, r.pathScore(sc, c))
		}
	}
	return r.wordScore(sc, i) + best
}

// childScore is the score of child route c for its best-mode parent.
func (r *Rules) childScore(sc scorer, c int32) float64 {
	s := r.pathScore(sc, c)
	if p, ok := sc.modelScore(r.routes[c].label); ok {
		s += ModelWeight * p
	}
	return s
}

// pickBest returns the child route of best-mode parent p that decides, or
// -1 when no child's conditions hold. A noise child that holds wins
// outright (noise stops everything); otherwise the highest score wins and
// file order breaks ties.
func (r *Rules) pickBest(sc scorer, p int32) int32 {
	win, top := int32(-1), 0.0
	for c := p + 1; c < r.routes[p].end; c = r.routes[c].end {
		if !sc.routeHolds(c) {
			continue
		}
		if r.routes[c].noise {
			return c
		}
		if s := r.childScore(sc, c); win < 0 || s > top {
			win, top = c, s
		}
	}
	return win
}

// termInSubject reports whether term t occurs in the item's subject.
func (s *state) termInSubject(t int32) bool { return s.subjHits[t>>6]&(1<<(t&63)) != 0 }

// routeHolds reports whether route i's conditions hold; a route that is not
// a candidate cannot hold.
func (s *state) routeHolds(i int32) bool {
	return s.cand[i>>6]&(1<<(i&63)) != 0 && s.rules.holds(s, s.env, &s.rules.routes[i].cond)
}

// resolveBest decides, once per item, which child of best-mode parent p
// may match: the others are skipped by walk.
func (r *Rules) resolveBest(s *state, p int32) int32 {
	if s.bestGen[p] == s.gen {
		return s.bestWin[p]
	}
	w := r.pickBest(s, p)
	s.bestGen[p], s.bestWin[p] = s.gen, w
	return w
}
