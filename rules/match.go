package rules

import (
	"math/bits"
	"regexp"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/classify"
	"github.com/switchboard/switchboard/internal/message"
)

// Decision is where one envelope goes.
//
// Its slices may be shared with the Rules and with other decisions (that is
// how Classify avoids allocating): treat them as read-only. Appending is
// safe; it copies.
type Decision struct {
	// Teams receive the item: owners first, then copies; never empty unless
	// Noise.
	Teams []string `json:"teams"`
	// Topics, Priority and Tags describe the item for its teams.
	Topics   []string `json:"topics,omitempty"`
	Priority string   `json:"priority"`
	Tags     []string `json:"tags,omitempty"`
	// Version is the content hash of the rules that decided.
	Version string `json:"rules_version"`
	// Matched lists the ids of the routes that matched, in evaluation order.
	Matched []string `json:"matched,omitempty"`
	// Noise marks an item kept for audit but delivered to no team; Teams is
	// empty then.
	Noise bool `json:"noise,omitempty"`
	// OverrideThread says a follow-up must not stick to its thread's team:
	// a deciding route said sticky: false.
	OverrideThread bool `json:"override_thread,omitempty"`
	// Lang is the item's language: env.Lang's primary subtag in lowercase
	// when the channel declared one, else the detected one ("fi", "en",
	// "sv"), or "und" when undetermined.
	Lang string `json:"lang"`
	// Decided says the item's own text decided where it goes: a deciding
	// route names an owning team (itself or inherited from a parent), or a
	// noise route matched. It is false when the item falls through to
	// default_team: no route matched, or only routes that name no team
	// (tagging routes with continue, copy_to only). A route that names the
	// default team explicitly decides. sticky on a route changes this: a
	// route with sticky: true (itself or inherited) never decides, so an
	// item it matches follows its conversation when it has one (its teams
	// apply otherwise); a route with sticky: false always decides, even
	// without a team. The router uses it for replies: an item whose text
	// decides nothing follows the item it answers (docs/rules.md).
	Decided bool `json:"decided"`
	// Route is the id of the deciding route the item's first team came
	// from (the noise route, for noise); empty when no route decided.
	// Explain's Trace says why in full.
	Route string `json:"route,omitempty"`
	// Model is the trained model's three most probable labels for the
	// item (teams, or NoiseLabel), with their probabilities; empty when
	// the rules have no model.
	Model ModelTop `json:"model,omitzero"`
	// ModelDecided says the model chose the owning team (the fallback):
	// no route named a team, and the model's most probable label was a
	// team the classifier may choose, with at least min_confidence.
	// Decided is true then too: the item's own text decided, through the
	// model, and Route is empty.
	ModelDecided bool `json:"model_decided,omitempty"`
}

// Classify decides where env goes, with the rules' model when they have
// one. It is safe for concurrent use and, in the steady state, allocates
// nothing when one route path decides (or nothing matched and the model
// decides).
func (r *Rules) Classify(env *message.Envelope) Decision {
	return r.ClassifyWith(env, nil)
}

// ClassifyWith is Classify with m's opinion of the item in place of the
// rules' own model: in model conditions, in the scores under mode: best
// parents, in the fallback (when the rules have a classifier: section) and
// in Decision.Model. A nil m is Classify; NoModel decides by the routes
// alone.
func (r *Rules) ClassifyWith(env *message.Envelope, m Model) Decision {
	s := r.getState()
	defer r.putState(s)
	s.env = env
	r.prepare(s, env)
	r.scanText(s)
	r.opinion(s, m)
	r.walk(s, env)
	d := r.decide(s)
	r.fallback(&d, s.probs, s.opinion)
	return d
}

// state is the per-item scratch space, pooled per Rules.
type state struct {
	rules *Rules
	f     *folder
	// lang is the decision language; stemLangs the stemming languages in
	// use (bit per language).
	lang      string
	langSrc   string
	stemLangs uint8
	// hay is the automaton's haystack; surfaceEnd ends its surface part.
	hay        []byte
	surfaceEnd int
	// termHits has a bit per term that occurs.
	termHits []uint64
	// cand has a bit per route that must be evaluated.
	cand []uint64
	// tagBits has a bit per tag the matched routes have given so far.
	tagBits []uint64
	// Per-route marks, valid when equal to gen (so nothing needs clearing).
	gen        uint32
	matchedGen []uint32
	childGen   []uint32 // a child of the route matched
	stopGen    []uint32 // per scope (parent+1): a route without continue matched
	stopAt     []int32  // per scope: routes from here on are skipped
	matched    []int32
	noise      int32 // the noise route that matched, or -1
	// bestWin is, per best-mode parent resolved for this item (bestGen ==
	// gen), the child that may match (-1: none).
	bestGen []uint32
	bestWin []int32
	// subjHits has a bit per term that occurs in the subject, and subj
	// holds the haystack's subject ranges [start, end), one per part; both
	// only when the rules have a best-mode parent.
	subjHits []uint64
	subj     [1 + numStemLangs][2]int
	nsubj    int
	// env is the item being classified, for scoring.
	env *message.Envelope
	// probs is the model's probability of each label (Rules.labels) for
	// the item, when opinion says there is a model; vec and scores are the
	// model's scratch space (vec nil without a classifier).
	probs   []float64
	opinion bool
	vec     *classify.Vectorizer
	scores  []float32
	// stems caches the shared stemmer's answers for this state's
	// goroutine, so that the steady state takes no lock.
	stems [numStemLangs]map[string]string
}

// maxLocalStems bounds a state's stem cache; it is emptied when full.
const maxLocalStems = 4096

// stem returns the stem of a token, from the state's cache when it can.
func (s *state) stem(lang int, tok []byte, letters bool) string {
	c := s.stems[lang]
	if st, ok := c[string(tok)]; ok {
		return st
	}
	st := s.rules.stems.stem(lang, tok, letters)
	if len(c) >= maxLocalStems {
		clear(c)
	}
	c[string(tok)] = st
	return st
}

func (r *Rules) newState() *state {
	n := len(r.routes)
	s := &state{
		rules:      r,
		f:          newFolder(),
		termHits:   make([]uint64, (len(r.terms)+63)/64),
		cand:       make([]uint64, (n+63)/64),
		tagBits:    make([]uint64, (len(r.tagNames)+63)/64),
		matchedGen: make([]uint32, n),
		childGen:   make([]uint32, n),
		stopGen:    make([]uint32, n+1),
		stopAt:     make([]int32, n+1),
		bestGen:    make([]uint32, n),
		bestWin:    make([]int32, n),
		subjHits:   make([]uint64, (len(r.terms)+63)/64),
		probs:      make([]float64, len(r.labels)),
	}
	if r.clf != nil {
		s.vec = classify.NewVectorizer()
		s.scores = make([]float32, len(r.labels))
	}
	for lang := range numStemLangs {
		s.stems[lang] = map[string]string{}
	}
	return s
}

func (r *Rules) getState() *state {
	s := r.pool.Get().(*state)
	s.gen++
	if s.gen == 0 { // wrapped: forget every old mark
		clear(s.matchedGen)
		clear(s.childGen)
		clear(s.stopGen)
		clear(s.bestGen)
		s.gen = 1
	}
	s.matched = s.matched[:0]
	s.noise = -1
	clear(s.termHits)
	clear(s.tagBits)
	if r.scoreSubject {
		clear(s.subjHits)
	}
	return s
}

// putState returns s to the pool without the item it held.
func (r *Rules) putState(s *state) {
	s.env = nil
	r.pool.Put(s)
}

// prepare folds the item's subject and text and settles its language.
func (r *Rules) prepare(s *state, env *message.Envelope) {
	s.f.reset()
	s.f.add(env.Subject, 0)
	s.f.add(env.Text, 1)
	s.lang, s.langSrc = primaryLang(env.Lang), "declared"
	if s.lang == "" {
		s.langSrc = "detected"
		if l := detectLang(s.f); l != langUnknown {
			s.lang = stemLangName(l)
		} else {
			s.lang, s.langSrc = "und", "undetermined"
		}
	}
	s.stemLangs = stemLangsFor(s.lang)
}

// stemLangsFor returns the stemming languages (a bit each) for an item's
// language: its own when it has a stemmer, else all of them.
func stemLangsFor(lang string) uint8 {
	for l, name := range stemLangNames {
		if name == lang {
			return 1 << l
		}
	}
	return 1<<numStemLangs - 1
}

// primaryLang returns the lowercase primary subtag of a BCP 47 tag ("fi" of
// "fi-FI"), or "" when tag is empty or not a language code.
func primaryLang(tag string) string {
	if tag == "" {
		return ""
	}
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	tag = strings.ToLower(tag)
	if !validLang(tag) {
		return ""
	}
	return tag
}

// scanText builds the haystack and runs the automaton over it, setting a
// bit in termHits for every term that occurs.
func (r *Rules) scanText(s *state) {
	f := s.f
	// The subject's tokens come first in each part; subj records where they
	// end (a part without any has an empty range).
	s.nsubj = 0
	hay := append(s.hay[:0], surfaceSep)
	s.subj[0] = [2]int{0, 0}
	for i := range f.toks {
		if i > 0 && f.toks[i].seg != f.toks[i-1].seg {
			hay = append(hay, segBreak, surfaceSep)
		}
		hay = append(hay, f.token(i)...)
		hay = append(hay, surfaceSep)
		if f.toks[i].seg == 0 {
			s.subj[0][1] = len(hay)
		}
	}
	s.nsubj = 1
	s.surfaceEnd = len(hay)
	for lang := range numStemLangs {
		if s.stemLangs&(1<<lang) == 0 {
			continue
		}
		sep := stemSep(lang)
		hay = append(hay, partBreak, sep)
		part := &s.subj[s.nsubj]
		*part = [2]int{len(hay), len(hay)}
		s.nsubj++
		for i := range f.toks {
			if i > 0 && f.toks[i].seg != f.toks[i-1].seg {
				hay = append(hay, segBreak, sep)
			}
			hay = append(hay, s.stem(lang, f.token(i), f.toks[i].letters)...)
			hay = append(hay, sep)
			if f.toks[i].seg == 0 {
				part[1] = len(hay)
			}
		}
	}
	s.hay = hay
	r.ac.scan(hay, s)
}

// hit records an automaton match: pattern p ends at end.
func (s *state) hit(p int32, end int) {
	pi := &s.rules.pats[p]
	if pi.surfaceOnly && end > s.surfaceEnd {
		return
	}
	for _, t := range pi.terms {
		s.termHits[t>>6] |= 1 << (t & 63)
	}
	if s.rules.scoreSubject {
		for k := range s.nsubj {
			if end > s.subj[k][0] && end <= s.subj[k][1] {
				for _, t := range pi.terms {
					s.subjHits[t>>6] |= 1 << (t & 63)
				}
				break
			}
		}
	}
}

func (s *state) termHit(t int32) bool { return s.termHits[t>>6]&(1<<(t&63)) != 0 }

func (s *state) anyHit(ids []int32) bool {
	for _, t := range ids {
		if s.termHit(t) {
			return true
		}
	}
	return false
}

// walk evaluates the routes that can match, in file order, with the
// routing-tree semantics: a route is tried only when its parent matched and
// no earlier sibling without continue matched; noise stops everything.
//
// Only candidates are evaluated: routes one of whose trigger terms occurs,
// and the routes without text.any/text.all (r.always). A route that is not a
// candidate cannot match, so skipping it changes nothing; this is what keeps
// the cost flat as the number of routes grows.
func (r *Rules) walk(s *state, env *message.Envelope) {
	copy(s.cand, r.always)
	for w, word := range s.termHits {
		for word != 0 {
			t := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			for _, ri := range r.trig[t] {
				s.cand[ri>>6] |= 1 << (ri & 63)
			}
		}
	}
	gen := s.gen
	for w, word := range s.cand {
		for word != 0 {
			i := int32(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
			rt := r.routes[i]
			p := rt.parent
			if p >= 0 && s.matchedGen[p] != gen {
				continue
			}
			if s.stopGen[p+1] == gen && i >= s.stopAt[p+1] {
				continue
			}
			if p >= 0 && r.routes[p].best && r.resolveBest(s, p) != i {
				continue // outscored by a sibling, or none of them holds
			}
			if !r.holds(s, env, &rt.cond) {
				continue
			}
			s.matchedGen[i] = gen
			s.matched = append(s.matched, i)
			if p >= 0 {
				s.childGen[p] = gen
			}
			for _, t := range rt.ownTags {
				s.tagBits[t>>6] |= 1 << (t & 63)
			}
			if rt.noise {
				s.noise = i
				return
			}
			if !rt.cont {
				s.stopGen[p+1], s.stopAt[p+1] = gen, rt.end
			}
		}
	}
}

// holds evaluates a route's conditions, cheapest first.
func (r *Rules) holds(s *state, env *message.Envelope, c *cond) bool {
	return c.holdsMeta(env, s.lang, s.tagBits) &&
		(c.model == nil || s.modelHolds(c.model)) &&
		(len(c.any) == 0 || s.anyHit(c.any)) &&
		allGroupsHit(c.all, s.anyHit) &&
		(len(c.none) == 0 || !s.anyHit(c.none)) &&
		(len(c.regex) == 0 || anyRegex(c.regex, s.f.folded))
}

func allGroupsHit(groups [][]int32, hit func([]int32) bool) bool {
	for _, g := range groups {
		if !hit(g) {
			return false
		}
	}
	return true
}

func anyRegex(res []*regexp.Regexp, text []byte) bool {
	for _, re := range res {
		if re.Match(text) {
			return true
		}
	}
	return false
}

// holdsMeta evaluates every condition but the text ones.
func (c *cond) holdsMeta(env *message.Envelope, lang string, tagBits []uint64) bool {
	if len(c.channel) > 0 && !slices.Contains(c.channel, env.Channel) {
		return false
	}
	if len(c.kind) > 0 && !slices.Contains(c.kind, string(env.Kind)) {
		return false
	}
	if len(c.lang) > 0 && !slices.Contains(c.lang, lang) {
		return false
	}
	switch c.thread {
	case threadNew:
		if env.ParentID != "" {
			return false
		}
	case threadReply:
		if env.ParentID == "" {
			return false
		}
	}
	for f := range numAuthorFields {
		if len(c.author[f]) > 0 && !anyGlob(c.author[f], authorField(env, f)) {
			return false
		}
	}
	for _, mc := range c.metadata {
		v, ok := env.Metadata[mc.key]
		if !ok || !anyGlob(mc.globs, v) {
			return false
		}
	}
	if len(c.tags) > 0 && !anyTag(c.tags, tagBits) {
		return false
	}
	return true
}

func anyTag(tags []int, tagBits []uint64) bool {
	for _, t := range tags {
		if tagBits[t>>6]&(1<<(t&63)) != 0 {
			return true
		}
	}
	return false
}

func anyGlob(gs []glob, v string) bool {
	for _, g := range gs {
		if g.match(v) {
			return true
		}
	}
	return false
}

func authorField(env *message.Envelope, f int) string {
	switch f {
	case authorID:
		return env.Author.ID
	case authorName:
		return env.Author.Name
	case authorHandle:
		return env.Author.Handle
	}
	return env.Author.Email
}

// decide turns the walk's result into a Decision.
func (r *Rules) decide(s *state) Decision {
	gen := s.gen
	return r.assemble(s.matched, func(i int32) bool { return s.childGen[i] == gen }, s.noise, s.lang)
}

// assemble builds the decision from the matched routes (in evaluation
// order), which of them had a matched child, and the noise route (or -1).
//
// The routes that decide are the matched ones without a matched child. The
// item goes to their owning teams (the default team when none names one),
// then their copy_to teams; it gets their topics and tags (inherited ones
// included) and the highest priority they set. When one path of routes
// matched, the route at its end decides alone and its precomputed slices are
// returned without allocating.
func (r *Rules) assemble(matched []int32, hasChild func(int32) bool, noise int32, lang string) Decision {
	d := Decision{Version: r.version, Lang: lang, Priority: priorityName(prioUnset)}
	if len(matched) == 0 {
		d.Teams = r.defTeams
		return d
	}
	last := r.routes[matched[len(matched)-1]]
	if len(matched) == last.depth+1 {
		d.Matched, d.Topics, d.Tags = last.chain, last.topics, last.tags
		if last.decided {
			d.Decided = true
		}
		if last.owner != "" || last.noise {
			d.Route = last.id
		}
		if noise >= 0 {
			d.Noise = true
			return d
		}
		d.Teams, d.Priority, d.OverrideThread = last.teams, last.prioName, !last.sticky
		return d
	}
	d.Matched = make([]string, 0, len(matched))
	var owners, copies []string
	prio := prioUnset
	for _, i := range matched {
		rt := r.routes[i]
		d.Matched = append(d.Matched, rt.id)
		if hasChild(i) {
			continue
		}
		d.Topics = union(d.Topics, rt.topics)
		d.Tags = union(d.Tags, rt.tags)
		if rt.owner != "" && !slices.Contains(owners, rt.owner) {
			owners = append(owners, rt.owner)
		}
		if rt.owner != "" && d.Route == "" {
			d.Route = rt.id
		}
		d.Decided = d.Decided || rt.decided
		copies = union(copies, rt.copies)
		prio = max(prio, rt.prio)
		d.OverrideThread = d.OverrideThread || !rt.sticky
	}
	if noise >= 0 {
		d.Noise, d.OverrideThread = true, false
		d.Decided, d.Route = true, r.routes[noise].id
		return d
	}
	if len(owners) == 0 {
		owners = append(owners, r.defaultTeam)
	}
	d.Teams = union(owners, copies)
	d.Priority = priorityName(prio)
	return d
}

// union appends to a the elements of b it does not have.
func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}
