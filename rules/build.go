package rules

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// maxDepth bounds route nesting.
const maxDepth = 16

// Priorities, lowest first. An item's priority is the highest one its
// deciding routes set, else normal.
const (
	prioUnset int8 = iota - 1
	prioLow
	prioNormal
	prioHigh
	prioUrgent
)

func priorityRank(s string) (int8, bool) {
	switch s {
	case "low":
		return prioLow, true
	case "normal":
		return prioNormal, true
	case "high":
		return prioHigh, true
	case "urgent":
		return prioUrgent, true
	}
	return prioUnset, false
}

// priorityName names a rank; unset is normal.
func priorityName(rank int8) string {
	switch rank {
	case prioLow:
		return "low"
	case prioHigh:
		return "high"
	case prioUrgent:
		return "urgent"
	}
	return "normal"
}

// route is one compiled route. Routes are stored in depth-first (file)
// order, so a route's subtree is routes[i+1:end].
type route struct {
	id     string
	path   yamlfile.Path
	line   int
	parent int32 // -1 at the top level
	end    int32 // one past the last route of the subtree
	depth  int
	cont   bool
	noise  bool
	// best: the children decide by score (mode: best), see best.go.
	best bool
	cond cond
	// score lists the route's own words for mode: best: its text.any and
	// text.all terms, each once; scoreRegex adds one for a regex.
	score      []int32
	scoreRegex bool

	// Effective values, inherited from the ancestors as documented.
	owner  string   // owning team, "" when no route on the chain names one
	copies []string // copy_to
	prio   int8     // prioUnset when no route on the chain sets one
	// sticky is false when the route (or an ancestor) says sticky: false;
	// follow is true when it says sticky: true. See Decision.Decided.
	sticky, follow bool
	// ownTags are the route's own tag ids, added to the item's tags when it
	// matches (ancestors have added theirs already).
	ownTags []int
	// Decision parts when this route alone decides: shared, read-only, with
	// capacity == length so that an append by a caller copies.
	teams, topics, tags, chain []string
	prioName                   string
	// decided: the route names an owning team (itself or inherited), so
	// the item's own text decided where it goes (Decision.Decided).
	decided bool
	// label is the index in Rules.labels of the route's owning team (the
	// default team when none), for the model's part in mode: best.
	label int32
}

// cond is a route's compiled match conditions; an empty cond matches every
// item.
type cond struct {
	channel, kind, lang []string
	thread              int8 // threadAny, threadNew, threadReply
	author              [numAuthorFields][]glob
	metadata            []metaCond
	tags                []int
	any                 []int32   // term ids: one must hit
	all                 [][]int32 // groups: each must have a hit
	allText             []string  // each group as written
	none                []int32   // term ids: none may hit
	regex               []*regexp.Regexp
	// trigger: the route can only match when one of these terms hit; nil
	// when the route has no text.any or text.all (it is always evaluated).
	trigger []int32
	// model is the model condition, nil when none.
	model *modelCond
}

const (
	threadAny int8 = iota
	threadNew
	threadReply
)

const (
	authorID = iota
	authorName
	authorHandle
	authorEmail
	numAuthorFields
)

// authorFieldName is the YAML key of an author field.
func authorFieldName(f int) string {
	return [numAuthorFields]string{"id", "name", "handle", "email"}[f]
}

type metaCond struct {
	key   string
	globs []glob
}

// inherited is what a route passes to its children.
type inherited struct {
	owner  string
	copies []string
	prio   int8
	sticky bool
	follow bool
	topics []string
	tags   []string
	chain  []string
	depth  int
	best   bool // the parent has mode: best
}

// builder validates a parsed File and compiles it.
type builder struct {
	doc         *yamlfile.Doc
	stems       *stemmer
	errs, warns *yamlfile.Collector

	declared  map[string]bool
	usedTeams map[string]bool
	vocab     map[string][]int32
	usedVocab map[string]bool
	terms     []*term
	termPaths []yamlfile.Path // where each term is first written
	termIndex map[string]int32
	tagIndex  map[string]int
	tagNames  []string
	routes    []*route
	ids       map[string]bool
	defTeam   string
	// entries and regexes count toward maxEntries and maxRegexes; capped
	// records which cap was already reported, so each is reported once.
	entries, regexes, vocabEntries int
	capped                         map[string]bool
	// clf is the classifier: section, nil when none.
	clf *classifierConf
}

func newBuilder(doc *yamlfile.Doc, st *stemmer) *builder {
	return &builder{
		doc:       doc,
		stems:     st,
		errs:      yamlfile.NewCollector(doc),
		warns:     yamlfile.NewCollector(doc),
		declared:  map[string]bool{},
		usedTeams: map[string]bool{},
		vocab:     map[string][]int32{},
		usedVocab: map[string]bool{},
		termIndex: map[string]int32{},
		tagIndex:  map[string]int{},
		ids:       map[string]bool{},
		capped:    map[string]bool{},
	}
}

// overCap reports whether n exceeds limit, and reports it as a problem the
// first time.
func (b *builder) overCap(n, limit int, what string, p yamlfile.Path) bool {
	if n <= limit {
		return false
	}
	if !b.capped[what] {
		b.capped[what] = true
		b.report(p, "more than %d %s in one rules file; split the work differently (docs/rules.md, Limits)", limit, what)
	}
	return true
}

// report records a problem; its signature is teams.go's reporter.
func (b *builder) report(p yamlfile.Path, format string, args ...any) {
	b.errs.Addf(p, format, args...)
}

func (b *builder) warn(p yamlfile.Path, format string, args ...any) {
	b.warns.Addf(p, "warning: "+format, args...)
}

func (b *builder) defaultTeam(f *File) {
	p := yamlfile.Path{"default_team"}
	switch {
	case f.DefaultTeam == "":
		b.report(p, "default_team is required: every item that is not noise must reach a team")
	case !b.declared[f.DefaultTeam]:
		b.report(p, "default team %q is not declared under teams:", f.DefaultTeam)
	}
	b.defTeam = f.DefaultTeam
	b.usedTeams[f.DefaultTeam] = true
}

// vocabularies compiles the shared word lists. A vocabulary may include
// others ($name among its words); includes are expanded, each word once,
// and a cycle of includes is an error.
func (b *builder) vocabularies(f *File) {
	names := make([]string, 0, len(f.Vocabularies))
	for name := range f.Vocabularies {
		names = append(names, name)
	}
	sort.Strings(names)
	state := map[string]int8{} // 1: being expanded, 2: done
	for _, name := range names {
		b.vocabulary(f, name, state, nil)
	}
}

// vocabulary compiles one vocabulary, expanding its includes first; stack
// is the chain of includes being expanded, to name a cycle.
func (b *builder) vocabulary(f *File, name string, state map[string]int8, stack []string) {
	p := yamlfile.Path{"vocabularies", name}
	if state[name] != 0 {
		return
	}
	state[name] = 1
	defer func() { state[name] = 2 }()
	if !validName(name) {
		b.report(p, "vocabulary name %q: use letters, digits, '-' or '_'", name)
		return
	}
	words := f.Vocabularies[name]
	if len(words) == 0 {
		b.report(p, "vocabulary %q is empty", name)
	}
	stack = append(stack, name)
	ids := []int32{}
	seen := map[int32]bool{}
	add := func(id int32) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for i, w := range words {
		inc, ok := strings.CutPrefix(strings.TrimSpace(w), "$")
		if !ok {
			if id, ok := b.term(w, p.Child(i)); ok {
				add(id)
			}
			continue
		}
		if _, declared := f.Vocabularies[inc]; !declared {
			b.report(p.Child(i), "unknown vocabulary $%s: declare it under vocabularies:", inc)
			continue
		}
		switch state[inc] {
		case 1:
			cycle := append(slices.Clone(stack[slices.Index(stack, inc):]), inc)
			b.report(p.Child(i), "vocabularies include each other: $%s; a vocabulary cannot include itself", strings.Join(cycle, " → $"))
			continue
		case 0:
			b.vocabulary(f, inc, state, stack)
		}
		b.usedVocab[inc] = true
		for _, id := range b.vocab[inc] {
			add(id)
		}
	}
	b.vocabEntries += len(ids)
	if b.overCap(b.vocabEntries, maxEntries, "vocabulary words (includes expanded)", p) {
		ids = nil
	}
	b.vocab[name] = ids
}

// term interns one word or phrase.
func (b *builder) term(s string, p yamlfile.Path) (int32, bool) {
	t, err := parseTerm(s, b.stems)
	if err != nil {
		b.report(p, "%q: %v", s, err)
		return 0, false
	}
	k := t.key()
	if id, ok := b.termIndex[k]; ok {
		return id, true
	}
	if b.overCap(len(b.terms)+1, maxTerms, "distinct words and phrases", p) {
		return 0, false
	}
	id := int32(len(b.terms))
	b.terms = append(b.terms, t)
	b.termPaths = append(b.termPaths, p)
	b.termIndex[k] = id
	return id, true
}

// dropDotless keeps a word written with ä, ö or å from matching, typed
// without them, a word the rules list as written (see term.dropDotless).
func (b *builder) dropDotless() {
	written := map[string]bool{}
	for _, t := range b.terms {
		for _, k := range t.meaningKeys(&t.forms[0]) {
			written[k] = true
		}
	}
	for _, t := range b.terms {
		t.dropDotless(written)
	}
}

// entry resolves one entry of a text condition: a $vocabulary (its words) or
// one term.
func (b *builder) entry(s string, p yamlfile.Path) ([]int32, bool) {
	w := strings.TrimSpace(s)
	if name, ok := strings.CutPrefix(w, "$"); ok {
		ids, found := b.vocab[name]
		if !found {
			b.report(p, "unknown vocabulary $%s: declare it under vocabularies:", name)
			return nil, false
		}
		b.usedVocab[name] = true
		b.entries += len(ids)
		if b.overCap(b.entries, maxEntries, "condition entries (vocabulary words included)", p) {
			return nil, false
		}
		return ids, len(ids) > 0
	}
	b.entries++
	id, ok := b.term(s, p)
	return []int32{id}, ok
}

func (b *builder) tagID(tag string) int {
	if id, ok := b.tagIndex[tag]; ok {
		return id
	}
	id := len(b.tagNames)
	b.tagIndex[tag] = id
	b.tagNames = append(b.tagNames, tag)
	return id
}

// routeList compiles routes (at p) with parent as their parent route.
func (b *builder) routeList(specs []RouteSpec, p yamlfile.Path, parent int32, inh inherited) {
	for i := range specs {
		b.route(&specs[i], p.Child(i), parent, inh)
	}
}

func (b *builder) route(rs *RouteSpec, p yamlfile.Path, parent int32, inh inherited) {
	switch {
	case rs.ID == "":
		b.report(p, "route needs an id (it names the route in traces and in routed items)")
	case !message.ValidToken(rs.ID):
		b.report(p.Child("id"), "route id %q: use lowercase letters, digits, '-' or '_' (at most 64)", rs.ID)
	case b.ids[rs.ID]:
		b.report(p.Child("id"), "duplicate route id %q", rs.ID)
	}
	b.ids[rs.ID] = true
	if b.overCap(len(b.routes)+1, maxRoutes, "routes", p) {
		return
	}
	if inh.depth >= maxDepth {
		b.report(p, "routes nest %d deep; at most %d levels", inh.depth+1, maxDepth)
		return
	}
	r := &route{id: rs.ID, path: p, line: b.doc.Errorf(p, "").Line, parent: parent, depth: inh.depth, cont: rs.Continue, noise: rs.Noise}
	switch rs.Mode {
	case "", "first":
	case "best":
		r.best = true
		if len(rs.Routes) == 0 {
			b.warn(p.Child("mode"), "mode: best on route %q has no effect: it has no child routes to choose from", rs.ID)
		}
	default:
		b.report(p.Child("mode"), "mode %q: use first (the first matching child route wins) or best (the child route with the highest score wins)", rs.Mode)
	}
	if inh.best && rs.Continue {
		b.report(p.Child("continue"), "continue does not go with a parent that has mode: best (one child route wins there); move this route out, or drop continue")
	}
	if rs.Noise {
		for _, bad := range []struct {
			set      bool
			key, why string
		}{
			{rs.Team != "", "team", "a noise item goes to no team"},
			{rs.CopyTo != nil, "copy_to", "a noise item goes to no team"},
			{rs.Continue, "continue", "noise stops evaluation"},
			{len(rs.Routes) > 0, "routes", "noise stops evaluation"},
			{rs.Mode != "", "mode", "noise stops evaluation"},
			{rs.Priority != "", "priority", "a noise item is not worked on"},
			{rs.Sticky != nil, "sticky", "a noise item goes to no team"},
		} {
			if bad.set {
				b.report(p.Child(bad.key), "%s does not go with noise: true (%s)", bad.key, bad.why)
			}
		}
	}
	if rs.Continue && !rs.Noise && rs.Team == "" && rs.CopyTo == nil && len(rs.Topics) == 0 && len(rs.Tags) == 0 &&
		rs.Priority == "" && rs.Sticky == nil && len(rs.Routes) == 0 {
		b.warn(p, "route %q has continue: true but sets no team, copy_to, topics, tags, priority or sticky, and has no routes: it has no effect", rs.ID)
	}
	r.owner = inh.owner
	if rs.Team != "" {
		if b.checkTeam(rs.Team, p.Child("team")) {
			r.owner = rs.Team
		}
	}
	r.copies = inh.copies
	if rs.CopyTo != nil {
		r.copies = nil
		for j, t := range rs.CopyTo {
			if b.checkTeam(t, p.Child("copy_to").Child(j)) && !slices.Contains(r.copies, t) {
				r.copies = append(r.copies, t)
			}
		}
	}
	r.prio = inh.prio
	if rs.Priority != "" {
		rank, ok := priorityRank(rs.Priority)
		if !ok {
			b.report(p.Child("priority"), "priority %q: use low, normal, high or urgent", rs.Priority)
		}
		r.prio = rank
	}
	r.sticky, r.follow = inh.sticky, inh.follow
	if rs.Sticky != nil {
		r.sticky, r.follow = *rs.Sticky, *rs.Sticky
	}
	topics := b.labels(inh.topics, rs.Topics, p.Child("topics"), "topic")
	tags := b.labels(inh.tags, rs.Tags, p.Child("tags"), "tag")
	for _, t := range tags[len(inh.tags):] {
		r.ownTags = append(r.ownTags, b.tagID(t))
	}
	r.cond = b.cond(&rs.Match, p.Child("match"))
	r.cond.model = b.modelCond(rs.Match.Model, p.Child("match").Child("model"), r.owner, rs.Noise)
	r.score, r.scoreRegex = scoreTerms(&r.cond), len(r.cond.regex) > 0
	chain := append(slices.Clip(inh.chain), rs.ID)

	// What this route decides when it decides alone.
	r.teams = decisionTeams(r.owner, r.copies, b.defTeam)
	r.topics, r.tags, r.chain = slices.Clip(topics), slices.Clip(tags), slices.Clip(chain)
	r.prioName = priorityName(r.prio)
	// sticky: true makes a team route defer to the item's conversation;
	// sticky: false makes any route decide, the default team included.
	r.decided = r.owner != "" && !r.follow || r.noise || !r.sticky

	idx := int32(len(b.routes))
	b.routes = append(b.routes, r)
	b.routeList(rs.Routes, p.Child("routes"), idx, inherited{
		owner: r.owner, copies: r.copies, prio: r.prio, sticky: r.sticky, follow: r.follow,
		topics: r.topics, tags: r.tags, chain: r.chain, depth: inh.depth + 1,
		best: r.best,
	})
	r.end = int32(len(b.routes))
}

// decisionTeams lists the teams an item goes to when one route with these
// owner and copies decides: the owner (the default team when none), then the
// copies.
func decisionTeams(owner string, copies []string, def string) []string {
	if owner == "" {
		owner = def
	}
	out := []string{owner}
	for _, c := range copies {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return slices.Clip(out)
}

func (b *builder) checkTeam(name string, p yamlfile.Path) bool {
	b.usedTeams[name] = true
	if !b.declared[name] {
		b.report(p, "unknown team %q: declare it under teams:", name)
		return false
	}
	return true
}

// labels validates topics or tags and appends the new ones to inherited.
func (b *builder) labels(inherited []string, own List, p yamlfile.Path, what string) []string {
	out := slices.Clip(inherited)
	for j, l := range own {
		if !message.ValidToken(l) {
			b.report(p.Child(j), "%s %q: use lowercase letters, digits, '-' or '_' (at most 64)", what, l)
			continue
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func (b *builder) cond(m *MatchSpec, p yamlfile.Path) cond {
	var c cond
	for j, ch := range m.Channel {
		if !message.ValidToken(ch) {
			b.report(p.Child("channel").Child(j), "channel %q: use the connector type in lowercase: facebook, x, email, web", ch)
		}
	}
	c.channel = slices.Clip(m.Channel)
	for j, k := range m.Kind {
		if !message.Kind(k).Valid() {
			b.report(p.Child("kind").Child(j), "kind %q: use post, comment, reply, message, mention, dm, email or web", k)
		}
	}
	c.kind = slices.Clip(m.Kind)
	for j, l := range m.Lang {
		if !validLang(l) {
			b.report(p.Child("lang").Child(j), "lang %q: use a lowercase ISO 639 code such as fi or en, or und (undetermined)", l)
		}
	}
	c.lang = slices.Clip(m.Lang)
	switch m.Thread {
	case "":
	case "new":
		c.thread = threadNew
	case "reply":
		c.thread = threadReply
	default:
		b.report(p.Child("thread"), "thread %q: use new or reply", m.Thread)
	}
	for f, list := range [numAuthorFields]List{m.Author.ID, m.Author.Name, m.Author.Handle, m.Author.Email} {
		c.author[f] = b.globs(list, p.Child("author").Child(authorFieldName(f)))
	}
	keys := make([]string, 0, len(m.Metadata))
	for k := range m.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kp := p.Child("metadata").Child(k)
		if len(m.Metadata[k]) == 0 {
			b.report(kp, "metadata %q needs at least one value (use \"*\" for any value)", k)
			continue
		}
		c.metadata = append(c.metadata, metaCond{key: k, globs: b.globs(m.Metadata[k], kp)})
	}
	for j, t := range m.Tags {
		if !message.ValidToken(t) {
			b.report(p.Child("tags").Child(j), "tag %q: use lowercase letters, digits, '-' or '_'", t)
			continue
		}
		id := b.tagID(t)
		if !slices.Contains(c.tags, id) {
			c.tags = append(c.tags, id)
		}
	}
	tp := p.Child("text")
	c.any = b.flatEntries(m.Text.Any, tp.Child("any"))
	c.none = b.flatEntries(m.Text.None, tp.Child("none"))
	for j, g := range m.Text.All {
		gp := tp.Child("all").Child(j)
		if len(g) == 1 {
			if ids, ok := b.entry(g[0], gp); ok {
				c.all = append(c.all, ids)
				c.allText = append(c.allText, strings.TrimSpace(g[0]))
			}
			continue
		}
		if len(g) == 0 {
			b.report(gp, "an empty group in text.all can never hold; list at least one word")
			continue
		}
		if ids := b.flatEntries(g, gp); len(ids) > 0 {
			c.all = append(c.all, ids)
			c.allText = append(c.allText, "["+strings.Join(trimmed(g), ", ")+"]")
		}
	}
	for j, src := range m.Text.Regex {
		if re, ok := b.regex(src, tp.Child("regex").Child(j)); ok {
			c.regex = append(c.regex, re)
		}
	}
	switch {
	case len(c.any) > 0:
		c.trigger = c.any
	case len(c.all) > 0:
		c.trigger = c.all[0]
	}
	return c
}

func trimmed(l List) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

func (b *builder) flatEntries(list List, p yamlfile.Path) []int32 {
	var out []int32
	seen := map[int32]bool{}
	for j, e := range list {
		ids, _ := b.entry(e, p.Child(j))
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

func (b *builder) globs(list List, p yamlfile.Path) []glob {
	var out []glob
	for j, s := range list {
		g, err := newGlob(s)
		if err != nil {
			b.report(p.Child(j), "%q: %v", s, err)
			continue
		}
		out = append(out, g)
	}
	return out
}

// regex compiles a Go regular expression and refuses literals that can never
// match the folded text (uppercase or accented letters).
func (b *builder) regex(src string, p yamlfile.Path) (*regexp.Regexp, bool) {
	if len(src) > maxRegexBytes {
		b.report(p, "regular expression of %d bytes; at most %d (prefer words, or split it)", len(src), maxRegexBytes)
		return nil, false
	}
	if b.overCap(b.regexes+1, maxRegexes, "regular expressions", p) {
		return nil, false
	}
	b.regexes++
	re, err := regexp.Compile(src)
	if err != nil {
		b.report(p, "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil, false
	}
	tree, err := syntax.Parse(src, syntax.Perl)
	if err == nil {
		if lit, want := unfoldedLiteral(tree); lit != "" {
			b.report(p, "regex literal %q can never match: the text is matched case-folded, with accents removed except on ä, ö and å; write %q", lit, want)
			return nil, false
		}
	}
	return re, true
}

// unfoldedLiteral finds a literal in the regex that folding changes.
func unfoldedLiteral(re *syntax.Regexp) (lit, want string) {
	if re.Op == syntax.OpLiteral {
		s := string(re.Rune)
		folded := FoldText(s)
		switch {
		case folded == s:
		case re.Flags&syntax.FoldCase != 0 && folded == strings.ToLower(s):
		default:
			return s, folded
		}
	}
	for _, sub := range re.Sub {
		if l, w := unfoldedLiteral(sub); l != "" {
			return l, w
		}
	}
	return "", ""
}

// unused warns about vocabularies and teams nothing refers to.
func (b *builder) unused(f *File) {
	for name := range f.Vocabularies {
		if !b.usedVocab[name] && validName(name) {
			b.warn(yamlfile.Path{"vocabularies", name}, "vocabulary %q is not used by any route", name)
		}
	}
	for i, t := range f.Teams {
		if t.Name != "" && !b.usedTeams[t.Name] {
			b.warn(yamlfile.Path{"teams", i, "name"}, "team %q is declared but no route sends it anything", t.Name)
		}
	}
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// validLang accepts und and two- or three-letter lowercase language codes.
func validLang(s string) bool {
	if s == "und" {
		return true
	}
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// describe names route i for messages: its id and line.
func (b *builder) describe(i int32) string {
	r := b.routes[i]
	e := b.doc.Errorf(r.path, "")
	if e.Line > 0 {
		return fmt.Sprintf("%q (line %d)", r.id, e.Line)
	}
	return fmt.Sprintf("%q", r.id)
}
