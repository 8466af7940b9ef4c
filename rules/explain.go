package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/internal/message"
)

// Trace explains a decision: the item's language and every route in file
// order, tried or skipped, with each condition's outcome.
type Trace struct {
	// Lang is the decision's language; LangSource says where it came from:
	// declared (by the channel), detected, or undetermined.
	Lang       string `json:"lang"`
	LangSource string `json:"lang_source"`
	// StemLangs are the languages whose stems words were matched in.
	StemLangs []string `json:"stem_langs"`
	// Routes lists every route, depth first, as evaluation met it.
	Routes []RouteTrace `json:"routes"`
	// Model is the model's top three labels (as Decision.Model), and
	// Fallback what the model did about the owning team, for people;
	// both empty without a model.
	Model    ModelTop `json:"model,omitzero"`
	Fallback string   `json:"fallback,omitempty"`
}

// RouteTrace is what happened to one route.
type RouteTrace struct {
	// ID is the route's id; Depth its nesting (0 at the top); Line where it
	// starts in the rules file.
	ID    string `json:"id"`
	Depth int    `json:"depth"`
	Line  int    `json:"line,omitempty"`
	// Matched says every condition held.
	Matched bool `json:"matched"`
	// Decided says the route is one of those the decision was taken from
	// (a matched route none of whose child routes matched).
	Decided bool `json:"decided,omitempty"`
	// Skipped says why the route was not tried (then Conditions is empty).
	Skipped string `json:"skipped,omitempty"`
	// Score is the route's score under a parent with mode: best, when its
	// conditions held; Outscored then names the sibling that won instead
	// (Matched is false for a route outscored).
	Score     float64 `json:"score,omitempty"`
	Outscored string  `json:"outscored,omitempty"`
	// Conditions are the route's conditions with their outcomes; none means
	// the route matches everything.
	Conditions []CondTrace `json:"conditions,omitempty"`
}

// CondTrace is one condition's outcome.
type CondTrace struct {
	// Cond names the condition as written: channel, kind, lang, thread,
	// author.email, metadata.<key>, tags, model, text.any, text.all,
	// text.none, text.regex.
	Cond string `json:"cond"`
	// OK says the condition held.
	OK bool `json:"ok"`
	// Detail says why, for people.
	Detail string `json:"detail"`
	// Hits are the words and phrases that occurred (text conditions).
	Hits []TermHit `json:"hits,omitempty"`
}

// TermHit is a word or phrase of a rule and the words of the text it
// matched.
type TermHit struct {
	Term  string   `json:"term"`
	Words []string `json:"words"`
}

// Explain decides like Classify and also returns the trace. It evaluates
// every route the straightforward way (no automaton, no candidate index),
// so it is slower; the tests hold the two to the same decisions.
func (r *Rules) Explain(env *message.Envelope) (Decision, Trace) {
	return r.ExplainWith(env, nil)
}

// ExplainWith is Explain with m's opinion of the item in place of the
// rules' own model, as ClassifyWith.
func (r *Rules) ExplainWith(env *message.Envelope, m Model) (Decision, Trace) {
	s := r.getState()
	defer r.putState(s)
	r.prepare(s, env)
	r.opinion(s, m)
	e := &explainer{r: r, s: s, env: env, words: map[int32][]string{}, subj: map[int32]bool{}}
	for lang := range numStemLangs {
		if s.stemLangs&(1<<lang) == 0 {
			continue
		}
		e.stems[lang] = make([]string, len(s.f.toks))
		for i := range s.f.toks {
			e.stems[lang][i] = s.stem(lang, s.f.token(i), s.f.toks[i].letters)
		}
		e.tr.StemLangs = append(e.tr.StemLangs, stemLangName(lang))
	}
	e.tr.Lang, e.tr.LangSource = s.lang, s.langSrc
	e.hasChild = make([]bool, len(r.routes))
	e.pos = make([]int, len(r.routes))
	e.noise = -1
	e.siblings(0, int32(len(r.routes)))
	d := r.assemble(e.matched, func(i int32) bool { return e.hasChild[i] }, e.noise, s.lang)
	for _, i := range e.matched {
		if !e.hasChild[i] {
			e.tr.Routes[e.pos[i]].Decided = true
		}
	}
	chosen := r.fallback(&d, s.probs, s.opinion)
	e.tr.Model, e.tr.Fallback = d.Model, r.fallbackText(&d, s.probs, chosen)
	return d, e.tr
}

type explainer struct {
	r        *Rules
	s        *state
	env      *message.Envelope
	stems    [numStemLangs][]string
	words    map[int32][]string // term → matched words (nil: no match)
	subj     map[int32]bool     // term → occurs in the subject
	tr       Trace
	matched  []int32
	hasChild []bool
	pos      []int // route → index in tr.Routes
	noise    int32
}

// siblings evaluates the routes from first (a route) up to stop, one
// sibling after the other.
func (e *explainer) siblings(first, stop int32) {
	if first < stop {
		if p := e.r.routes[first].parent; p >= 0 && e.r.routes[p].best && e.noise < 0 {
			e.bestSiblings(p)
			return
		}
	}
	stoppedBy := ""
	for i := first; i < stop; i = e.r.routes[i].end {
		rt := e.r.routes[i]
		switch {
		case e.noise >= 0:
			e.skip(i, fmt.Sprintf("noise route %q matched: evaluation stopped", e.r.routes[e.noise].id))
			continue
		case stoppedBy != "":
			e.skip(i, fmt.Sprintf("route %q matched before it without continue", stoppedBy))
			continue
		}
		ok, conds := e.eval(rt)
		e.pos[i] = len(e.tr.Routes)
		e.tr.Routes = append(e.tr.Routes, RouteTrace{ID: rt.id, Depth: rt.depth, Line: rt.line, Matched: ok, Conditions: conds})
		if !ok {
			for j := i + 1; j < rt.end; j++ {
				e.skipOne(j, fmt.Sprintf("route %q above it did not match", rt.id))
			}
			continue
		}
		if e.matchRoute(i) {
			continue
		}
		if !rt.cont {
			stoppedBy = rt.id
		}
	}
}

// matchRoute records that route i matched: its parent has a matching
// child and its own tags are set. A noise route stops the evaluation
// (noise is true); any other has its children tried.
func (e *explainer) matchRoute(i int32) (noise bool) {
	rt := e.r.routes[i]
	e.matched = append(e.matched, i)
	if rt.parent >= 0 {
		e.hasChild[rt.parent] = true
	}
	for _, t := range rt.ownTags {
		e.s.tagBits[t>>6] |= 1 << (t & 63)
	}
	if rt.noise {
		e.noise = i
		return true
	}
	e.siblings(i+1, rt.end)
	return false
}

// bestSiblings evaluates the children of best-mode parent p: each one is
// tried and scored, and only the winner matches (see best.go).
func (e *explainer) bestSiblings(p int32) {
	win := e.r.pickBest(e, p)
	for c := p + 1; c < e.r.routes[p].end; c = e.r.routes[c].end {
		rt := e.r.routes[c]
		ok, conds := e.eval(rt)
		e.pos[c] = len(e.tr.Routes)
		e.tr.Routes = append(e.tr.Routes, RouteTrace{ID: rt.id, Depth: rt.depth, Line: rt.line, Matched: ok && c == win, Conditions: conds})
		tr := &e.tr.Routes[len(e.tr.Routes)-1]
		if ok && !rt.noise {
			tr.Score = e.r.childScore(e, c)
		}
		switch {
		case !ok:
			for j := c + 1; j < rt.end; j++ {
				e.skipOne(j, fmt.Sprintf("route %q above it did not match", rt.id))
			}
		case c != win:
			tr.Outscored = fmt.Sprintf("route %q scored higher (mode: best)", e.r.routes[win].id)
			if e.r.routes[win].noise {
				tr.Outscored = fmt.Sprintf("noise route %q matched (mode: best)", e.r.routes[win].id)
			}
			for j := c + 1; j < rt.end; j++ {
				e.skipOne(j, fmt.Sprintf("route %q above it was outscored", rt.id))
			}
		default:
			e.matchRoute(c)
		}
	}
}

// termHit, termInSubject and routeHolds make the explainer a scorer.
func (e *explainer) termHit(t int32) bool { return len(e.hits([]int32{t})) > 0 }

func (e *explainer) termInSubject(t int32) bool {
	in, done := e.subj[t]
	if !done {
		f := e.s.f
		n := 0
		for n < len(f.toks) && f.toks[n].seg == 0 {
			n++
		}
		in = e.r.terms[t].matchTokens(f.toks[:n], func(i int) string { return string(f.token(i)) }, &e.stems) != nil
		e.subj[t] = in
	}
	return in
}

func (e *explainer) modelScore(label int32) (float64, bool) { return e.s.modelScore(label) }

func (e *explainer) routeHolds(i int32) bool {
	ok, _ := e.eval(e.r.routes[i])
	return ok
}

// skip records route i and its subtree as not tried.
func (e *explainer) skip(i int32, why string) {
	e.skipOne(i, why)
	for j := i + 1; j < e.r.routes[i].end; j++ {
		e.skipOne(j, fmt.Sprintf("route %q above it was not tried", e.r.routes[i].id))
	}
}

func (e *explainer) skipOne(i int32, why string) {
	rt := e.r.routes[i]
	e.pos[i] = len(e.tr.Routes)
	e.tr.Routes = append(e.tr.Routes, RouteTrace{ID: rt.id, Depth: rt.depth, Line: rt.line, Skipped: why})
}

// eval evaluates every condition of a route, for the trace.
func (e *explainer) eval(rt *route) (bool, []CondTrace) {
	c := &rt.cond
	env := e.env
	var out []CondTrace
	add := func(name string, ok bool, detail string, hits []TermHit) {
		out = append(out, CondTrace{Cond: name, OK: ok, Detail: detail, Hits: hits})
	}
	oneOf := func(name, v string, list []string) {
		if slices.Contains(list, v) {
			add(name, true, fmt.Sprintf("%q is one of %s", v, listText(list)), nil)
		} else {
			add(name, false, fmt.Sprintf("%q is not one of %s", v, listText(list)), nil)
		}
	}
	if len(c.channel) > 0 {
		oneOf("channel", env.Channel, c.channel)
	}
	if len(c.kind) > 0 {
		oneOf("kind", string(env.Kind), c.kind)
	}
	if len(c.lang) > 0 {
		oneOf("lang", e.s.lang, c.lang)
		out[len(out)-1].Detail += " (" + e.s.langSrc + ")"
	}
	switch c.thread {
	case threadNew:
		add("thread", env.ParentID == "", threadText(env), nil)
	case threadReply:
		add("thread", env.ParentID != "", threadText(env), nil)
	}
	for f := range numAuthorFields {
		if len(c.author[f]) > 0 {
			v := authorField(env, f)
			e.globCond("author."+authorFieldName(f), v, true, c.author[f], add)
		}
	}
	for _, mc := range c.metadata {
		v, ok := env.Metadata[mc.key]
		e.globCond("metadata."+mc.key, v, ok, mc.globs, add)
	}
	if mc := c.model; mc != nil {
		p, ok := e.s.modelScore(mc.label)
		switch {
		case !ok:
			add("model", false, fmt.Sprintf("no model to ask for %s", mc.name), nil)
		case p >= mc.min:
			add("model", true, fmt.Sprintf("%s %.2f ≥ %g", mc.name, p, mc.min), nil)
		default:
			add("model", false, fmt.Sprintf("%s %.2f < %g", mc.name, p, mc.min), nil)
		}
	}
	if len(c.tags) > 0 {
		var have, want []string
		for _, t := range c.tags {
			want = append(want, e.r.tagNames[t])
			if e.s.tagBits[t>>6]&(1<<(t&63)) != 0 {
				have = append(have, e.r.tagNames[t])
			}
		}
		if len(have) > 0 {
			add("tags", true, "the item has "+strings.Join(have, ", "), nil)
		} else {
			add("tags", false, "the item has none of "+listText(want), nil)
		}
	}
	if len(c.any) > 0 {
		hits := e.hits(c.any)
		if len(hits) > 0 {
			add("text.any", true, hitText(hits), hits)
		} else {
			add("text.any", false, fmt.Sprintf("none of its %d words or phrases occurs", len(c.any)), nil)
		}
	}
	if len(c.all) > 0 {
		var hits []TermHit
		var missing []string
		for gi, g := range c.all {
			h := e.hits(g)
			if len(h) == 0 {
				missing = append(missing, c.allText[gi])
			}
			hits = append(hits, h...)
		}
		if len(missing) == 0 {
			add("text.all", true, hitText(hits), hits)
		} else {
			add("text.all", false, "missing: "+strings.Join(missing, ", "), hits)
		}
	}
	if len(c.none) > 0 {
		hits := e.hits(c.none)
		if len(hits) == 0 {
			add("text.none", true, fmt.Sprintf("none of its %d words or phrases occurs", len(c.none)), nil)
		} else {
			add("text.none", false, hitText(hits), hits)
		}
	}
	if len(c.regex) > 0 {
		ok := false
		for _, re := range c.regex {
			if m := re.Find(e.s.f.folded); m != nil {
				add("text.regex", true, fmt.Sprintf("%s matched %q", re, m), nil)
				ok = true
				break
			}
		}
		if !ok {
			add("text.regex", false, "no regular expression matched the folded text", nil)
		}
	}
	for _, ct := range out {
		if !ct.OK {
			return false, out
		}
	}
	return true, out
}

func (e *explainer) globCond(name, v string, present bool, gs []glob, add func(string, bool, string, []TermHit)) {
	if !present {
		add(name, false, "not set on the item", nil)
		return
	}
	for _, g := range gs {
		if g.match(v) {
			add(name, true, fmt.Sprintf("%q matches %q", v, g.pat), nil)
			return
		}
	}
	pats := make([]string, len(gs))
	for i, g := range gs {
		pats[i] = g.pat
	}
	add(name, false, fmt.Sprintf("%q matches none of %s", v, listText(pats)), nil)
}

// hits evaluates terms the straightforward way, on the item's tokens and
// their stems.
func (e *explainer) hits(ids []int32) []TermHit {
	var out []TermHit
	for _, id := range ids {
		w, done := e.words[id]
		if !done {
			f := e.s.f
			w = e.r.terms[id].matchTokens(f.toks, func(i int) string { return string(f.token(i)) }, &e.stems)
			e.words[id] = w
		}
		if w != nil {
			out = append(out, TermHit{Term: e.r.terms[id].text, Words: w})
		}
	}
	return out
}

func hitText(hits []TermHit) string {
	parts := make([]string, len(hits))
	for i, h := range hits {
		parts[i] = fmt.Sprintf("%s ← %q", h.Term, strings.Join(h.Words, " "))
	}
	return strings.Join(parts, "; ")
}

func threadText(env *message.Envelope) string {
	if env.ParentID == "" {
		return "the item answers nothing (new)"
	}
	return fmt.Sprintf("the item answers %s (reply)", env.ParentID)
}

func listText(list []string) string {
	return "[" + strings.Join(list, ", ") + "]"
}
