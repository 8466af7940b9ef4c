package rules

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
)

// The property: on random rule sets and random texts, Classify (automaton,
// candidate index, precomputed decisions) and Explain (straightforward
// evaluation) decide exactly as refDecide, a plain recursive evaluation of
// the rules as written, written here without any of the package's matching
// code (it shares only folding and stemming).

var propWords = []string{
	"lasku", "laskun", "laskussani", "laskuja", "läskut", "laskut", "sähkölasku", "sähkölaskussa", "laskutus",
	"paketti", "paketin", "paketista", "postipaketti", "postipaketista", "toimitus", "toimituksen", "toimitusta",
	"refund", "refunded", "refunds", "charge", "charged", "charges", "double", "twice",
	"invoice", "invoices", "delivery", "delivered", "late", "myöhässä", "ei", "tullut",
	"hyvitys", "hyvitystä", "gdpr", "data", "café", "CAFE", "Ärsyttää", "😡", "👍🏽", "2024",
	"happy", "happiness", "myohassa", "arsyttaa", "e-lasku", "elasku", "e-laskussa", "sahkolasku", "pakettia",
	"leveransen", "fakturan", "paketet", "och", "inte",
}

var propTerms = []string{
	"lasku", "=lasku", "lasku*", "*lasku", "*lask*", "laskut", "paketti", "*paketti", "paket*",
	"toimitus", "refund", "=refunds", "charge", "double charged", "charged twice", "invoice",
	"delivery", "late", "myöhässä", "ei tullut", "hyvitys", "gdpr", "data", "cafe", "ärsyttää",
	"😡", "👍", "2024", "läskut", "=läskut", "sähkö*", "*appi*", "=double charged", "=ei tullut", "=*lasku", "=paketti*",
	"e-lasku", "e-lasku*", "*-lasku", "=e-lasku", "faktura", "paket", "leverans",
}

var propTeams = []string{"t0", "t1", "t2", "t3"}
var propTags = []string{"a", "b", "c"}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func pickN[T any](r *rand.Rand, xs []T, max int) []T {
	n := 1 + r.IntN(max)
	out := make([]T, 0, n)
	for range n {
		out = append(out, pick(r, xs))
	}
	return out
}

func randomRoutes(r *rand.Rand, depth int, next *int) []RouteSpec {
	n := 1 + r.IntN(5)
	if depth > 0 {
		n = r.IntN(4)
	}
	var out []RouteSpec
	for range n {
		*next++
		rs := RouteSpec{ID: fmt.Sprintf("r%d", *next)}
		m := &rs.Match
		if r.IntN(3) == 0 {
			m.Channel = pickN(r, []string{"facebook", "x", "email"}, 2)
		}
		if r.IntN(6) == 0 {
			m.Lang = pickN(r, []string{"fi", "en", "und", "sv"}, 2)
		}
		if r.IntN(6) == 0 {
			m.Kind = pickN(r, []string{"comment", "email", "post"}, 2)
		}
		if r.IntN(8) == 0 {
			m.Thread = pick(r, []string{"new", "reply"})
		}
		if r.IntN(8) == 0 {
			m.Author.Email = List{pick(r, []string{"*@example.com", "ANNA@*", "*"})}
		}
		if r.IntN(8) == 0 {
			m.Metadata = map[string]List{"object": {pick(r, []string{"page_post", "visitor*"})}}
		}
		if r.IntN(5) == 0 {
			m.Tags = pickN(r, propTags, 2)
		}
		if r.IntN(4) != 0 {
			m.Text.Any = pickN(r, propTerms, 3)
		}
		if r.IntN(5) == 0 {
			for _, t := range pickN(r, propTerms, 2) {
				g := List{t}
				if r.IntN(3) == 0 { // an OR group
					g = append(g, pickN(r, append(slices.Clip(propTerms), "$v"), 2)...)
				}
				m.Text.All = append(m.Text.All, g)
			}
			if r.IntN(2) == 0 {
				m.Text.All = append(m.Text.All, List{pick(r, []string{"$v", "$w"})})
			}
		}
		if r.IntN(8) == 0 {
			m.Text.Any = append(m.Text.Any, "$w")
		}
		if r.IntN(5) == 0 {
			m.Text.None = pickN(r, propTerms, 2)
		}
		if r.IntN(10) == 0 {
			m.Text.Regex = List{pick(r, []string{"lask", `\d{4}`, "^ei", "(?i)refund"})}
		}
		if r.IntN(6) == 0 && depth < 2 {
			rs.Noise = true
			if r.IntN(2) == 0 {
				rs.Tags = pickN(r, propTags, 1)
			}
			out = append(out, rs)
			continue
		}
		if r.IntN(3) != 0 {
			rs.Team = pick(r, propTeams)
		}
		if r.IntN(4) == 0 {
			rs.CopyTo = pickN(r, propTeams, 2)
		} else if r.IntN(8) == 0 {
			rs.CopyTo = List{}
		}
		if r.IntN(3) == 0 {
			rs.Priority = pick(r, []string{"low", "normal", "high", "urgent"})
		}
		if r.IntN(3) == 0 {
			rs.Topics = pickN(r, []string{"x", "y", "z"}, 2)
		}
		if r.IntN(3) == 0 {
			rs.Tags = pickN(r, propTags, 2)
		}
		if r.IntN(5) == 0 {
			b := r.IntN(2) == 0
			rs.Sticky = &b
		}
		rs.Continue = r.IntN(3) == 0
		if depth < 2 && r.IntN(3) == 0 {
			rs.Routes = randomRoutes(r, depth+1, next)
			if r.IntN(2) == 0 {
				rs.Mode = "best"
				for len(rs.Routes) < 3 {
					rs.Routes = append(rs.Routes, randomRoutes(r, depth+1, next)...)
				}
				for i := range rs.Routes {
					c := &rs.Routes[i]
					c.Continue = false
					if r.IntN(3) != 0 { // words only, so that siblings compete
						c.Match = MatchSpec{Text: TextSpec{Any: pickN(r, propTerms, 3), All: c.Match.Text.All}}
					}
				}
			}
		}
		out = append(out, rs)
	}
	return out
}

func randomFile(r *rand.Rand) *File {
	// w includes v (a vocabulary including another) about half the time.
	w := pickN(r, propTerms, 2)
	if r.IntN(2) == 0 {
		w = append(w, "$v")
	}
	f := &File{DefaultTeam: "t0", Vocabularies: map[string]List{"v": pickN(r, propTerms, 3), "w": w}}
	for _, t := range propTeams {
		f.Teams = append(f.Teams, TeamSpec{Name: t})
	}
	next := 0
	f.Routes = randomRoutes(r, 0, &next)
	return f
}

func randomEnvelope(r *rand.Rand) *message.Envelope {
	var b strings.Builder
	for i := range 1 + r.IntN(12) {
		if i > 0 {
			b.WriteString(pick(r, []string{" ", "  ", ", ", "-", "!\n", " ... "}))
		}
		w := pick(r, propWords)
		if i == 0 && r.IntN(3) == 0 {
			w = pick(r, []string{"charged", "tullut", "twice"})
		}
		if r.IntN(6) == 0 {
			w = strings.ToUpper(w)
		}
		b.WriteString(w)
	}
	env := &message.Envelope{
		Channel: pick(r, []string{"facebook", "x", "email"}),
		Kind:    message.Kind(pick(r, []string{"comment", "email", "post"})),
		Lang:    pick(r, []string{"", "", "fi", "en", "EN-gb", "sv", "de"}),
		Text:    b.String(),
		Author:  message.Author{Email: pick(r, []string{"", "anna@example.com", "bob@other.org"})},
	}
	if r.IntN(3) == 0 {
		// Often a phrase's first word, so that phrases across the subject's
		// end (which must not match) come up.
		env.Subject = pick(r, propWords) + " " + pick(r, []string{"double", "charged", "ei", pick(r, propWords)})
	}
	if r.IntN(2) == 0 {
		env.ParentID = "p1"
	}
	if r.IntN(2) == 0 {
		env.Metadata = map[string]string{"object": pick(r, []string{"page_post", "visitor_post"})}
	}
	return env
}

// ref is the reference evaluator.
type ref struct {
	f      *File
	st     *stemmer
	lang   string
	toks   []string
	segs   []int8
	stems  map[int][]string
	folded string
	tags   map[string]bool
	env    *message.Envelope
	// written holds the meaning of every entry of the file as written.
	written map[string]bool
	// subjectOnly limits occurs to the subject's words.
	subjectOnly bool
	model       Model
}

type refOutcome struct {
	route  string // the route the outcome is from
	owner  string
	copies []string
	prio   int8
	sticky bool
	follow bool
	topics []string
	tags   []string
}

func newRef(f *File, st *stemmer, env *message.Envelope) *ref {
	fo := newFolder()
	fo.add(env.Subject, 0)
	fo.add(env.Text, 1)
	x := &ref{f: f, st: st, env: env, stems: map[int][]string{}, tags: map[string]bool{}, folded: string(fo.folded), written: map[string]bool{}}
	addWritten := func(entry string) {
		w := strings.TrimSpace(entry)
		if strings.HasPrefix(w, "$") {
			return
		}
		exact := strings.HasPrefix(w, "=")
		w = strings.TrimPrefix(w, "=")
		suffix, prefix := strings.HasPrefix(w, "*"), strings.HasSuffix(w, "*")
		for _, m := range x.meaning(foldWords(strings.Trim(w, "*")), exact, prefix, suffix) {
			x.written[m] = true
		}
	}
	for _, words := range f.Vocabularies {
		for _, w := range words {
			addWritten(w)
		}
	}
	var walk func([]RouteSpec)
	walk = func(routes []RouteSpec) {
		for _, rs := range routes {
			t := rs.Match.Text
			for _, w := range append(append(slices.Clone(t.Any), t.None...), slices.Concat(t.All...)...) {
				addWritten(w)
			}
			walk(rs.Routes)
		}
	}
	walk(f.Routes)
	for i := range fo.toks {
		x.toks = append(x.toks, string(fo.token(i)))
		x.segs = append(x.segs, fo.toks[i].seg)
	}
	x.lang = primaryLang(env.Lang)
	if x.lang == "" {
		x.lang = map[int]string{langFi: "fi", langEn: "en", langSv: "sv", langUnknown: "und"}[detectLang(fo)]
	}
	langs := map[string][]int{"fi": {langFi}, "en": {langEn}, "sv": {langSv}}[x.lang]
	if langs == nil {
		langs = []int{langFi, langEn, langSv}
	}
	for _, l := range langs {
		for _, t := range x.toks {
			x.stems[l] = append(x.stems[l], st.stemString(l, t))
		}
	}
	return x
}

// occurs evaluates one term as written, in each of the ways it may be
// typed (refForms).
func (x *ref) occurs(entry string) bool {
	w := strings.TrimSpace(entry)
	if name, ok := strings.CutPrefix(w, "$"); ok {
		for _, v := range x.f.Vocabularies[name] {
			if x.occurs(v) {
				return true
			}
		}
		return false
	}
	exact, prefix, suffix, forms := x.refForms(w)
	for _, words := range forms {
		if x.formOccurs(words, exact, prefix, suffix) {
			return true
		}
	}
	return false
}

// refForms reads a term: its flags, and its forms: as written, with
// hyphenated words joined, and each of those with ä/ö/å typed as a/o/a in
// words of 4 letters or more, unless that is how another entry of the
// file is written (x.written).
func (x *ref) refForms(w string) (exact, prefix, suffix bool, forms [][]string) {
	exact = strings.HasPrefix(w, "=")
	w = strings.TrimPrefix(w, "=")
	suffix = strings.HasPrefix(w, "*")
	prefix = strings.HasSuffix(w, "*")
	w = strings.Trim(w, "*")
	forms = [][]string{foldWords(w)}
	var joined []string
	hyphen := false
	for _, field := range strings.Fields(w) {
		if fw := foldWords(field); strings.Contains(field, "-") && len(fw) > 1 {
			joined, hyphen = append(joined, strings.Join(fw, "")), true
		} else {
			joined = append(joined, fw...)
		}
	}
	if hyphen && !slices.Equal(joined, forms[0]) {
		forms = append(forms, joined)
	}
	for _, f := range slices.Clone(forms) {
		d := slices.Clone(f)
		for i, tok := range d {
			if len([]rune(tok)) >= 4 {
				d[i] = strings.NewReplacer("ä", "a", "ö", "o", "å", "a").Replace(tok)
			}
		}
		if slices.Equal(d, f) || slices.ContainsFunc(x.meaning(d, exact, prefix, suffix), func(m string) bool { return x.written[m] }) {
			continue
		}
		forms = append(forms, d)
	}
	return exact, prefix, suffix, forms
}

// meaning is what a form matches, to compare terms: its stems in each
// language (stemmed terms) or its words. Two forms mean the same when any
// of their meanings is the same.
func (x *ref) meaning(words []string, exact, prefix, suffix bool) []string {
	if exact || prefix {
		return []string{fmt.Sprint(prefix, suffix, words)}
	}
	var out []string
	for l := range numStemLangs {
		stems := make([]string, len(words))
		for i, w := range words {
			stems[i] = x.st.stemString(l, w)
		}
		out = append(out, fmt.Sprint(l, suffix, stems))
	}
	return out
}

// formOccurs evaluates one form: the first word may be a suffix of a text
// word ("*w"), the last a prefix ("w*"), the others equal; stemmed forms
// compare stems instead.
func (x *ref) formOccurs(words []string, exact, prefix, suffix bool) bool {
	k := len(words)
	n := len(x.toks)
	if x.subjectOnly {
		n = 0
		for n < len(x.segs) && x.segs[n] == 0 {
			n++
		}
	}
	for i := 0; i+k <= n; i++ {
		if x.segs[i] != x.segs[i+k-1] {
			continue
		}
		if exact || prefix || suffix {
			ok := true
			for j, word := range words {
				t := x.toks[i+j]
				switch {
				case prefix && suffix && j == 0 && j == k-1:
					ok = ok && strings.Contains(t, word)
				case suffix && j == 0:
					ok = ok && strings.HasSuffix(t, word)
				case prefix && j == k-1:
					ok = ok && strings.HasPrefix(t, word)
				default:
					ok = ok && t == word
				}
			}
			if ok {
				return true
			}
		}
		if exact || prefix {
			continue
		}
		for l, stems := range x.stems {
			ok := true
			for j, word := range words {
				want := x.st.stemString(l, word)
				if suffix && j == 0 {
					ok = ok && strings.HasSuffix(stems[i], want)
				} else {
					ok = ok && stems[i+j] == want
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func (x *ref) holds(m *MatchSpec) bool {
	env := x.env
	in := func(l List, v string) bool { return len(l) == 0 || slices.Contains(l, v) }
	globAny := func(l List, v string) bool {
		if len(l) == 0 {
			return true
		}
		for _, p := range l {
			re := "^" + strings.ReplaceAll(regexp.QuoteMeta(strings.ToLower(p)), `\*`, ".*") + "$"
			if regexp.MustCompile(re).MatchString(strings.ToLower(v)) {
				return true
			}
		}
		return false
	}
	if !in(m.Channel, env.Channel) || !in(m.Kind, string(env.Kind)) || !in(m.Lang, x.lang) {
		return false
	}
	if m.Thread == "new" && env.ParentID != "" || m.Thread == "reply" && env.ParentID == "" {
		return false
	}
	if !globAny(m.Author.Email, env.Author.Email) {
		return false
	}
	for k, l := range m.Metadata {
		v, ok := env.Metadata[k]
		if !ok || !globAny(l, v) {
			return false
		}
	}
	if len(m.Tags) > 0 && !slices.ContainsFunc(m.Tags, func(t string) bool { return x.tags[t] }) {
		return false
	}
	if len(m.Text.Any) > 0 && !slices.ContainsFunc(m.Text.Any, x.occurs) {
		return false
	}
	for _, g := range m.Text.All {
		if !slices.ContainsFunc(g, x.occurs) {
			return false
		}
	}
	if slices.ContainsFunc(m.Text.None, x.occurs) {
		return false
	}
	if len(m.Text.Regex) > 0 && !slices.ContainsFunc(m.Text.Regex, func(re string) bool {
		return regexp.MustCompile(re).MatchString(x.folded)
	}) {
		return false
	}
	return true
}

// walk evaluates routes with the routing-tree semantics and collects the
// deciding outcomes; it returns false once noise stopped everything. best:
// the routes' parent has mode: best.
func (x *ref) walk(routes []RouteSpec, parent refOutcome, best bool, matched *[]string, deciders *[]refOutcome, noise *bool) {
	if best && !*noise {
		// Every child is tried; a noise child wins outright, otherwise the
		// highest score, the first of equals.
		win, top := -1, 0.0
		for i := range routes {
			if !x.holds(&routes[i].Match) {
				continue
			}
			if routes[i].Noise {
				win = i
				break
			}
			owner := parent.owner
			if routes[i].Team != "" {
				owner = routes[i].Team
			}
			if sc := x.childScore(&routes[i], owner); win < 0 || sc > top {
				win, top = i, sc
			}
		}
		if win < 0 {
			return
		}
		routes = routes[win : win+1]
	}
	for i := range routes {
		rs := &routes[i]
		if *noise {
			return
		}
		if !x.holds(&rs.Match) {
			continue
		}
		*matched = append(*matched, rs.ID)
		o := parent
		o.route = rs.ID
		o.topics = union(slices.Clone(parent.topics), rs.Topics)
		o.tags = union(slices.Clone(parent.tags), rs.Tags)
		for _, t := range rs.Tags {
			x.tags[t] = true
		}
		if rs.Team != "" {
			o.owner = rs.Team
		}
		if rs.CopyTo != nil {
			o.copies = union(nil, rs.CopyTo)
		}
		if rs.Priority != "" {
			o.prio, _ = priorityRank(rs.Priority)
		}
		if rs.Sticky != nil {
			o.sticky, o.follow = *rs.Sticky, *rs.Sticky
		}
		if rs.Noise {
			*noise = true
			*deciders = append(*deciders, o)
			return
		}
		before := len(*matched)
		x.walk(rs.Routes, o, rs.Mode == "best", matched, deciders, noise)
		if len(*matched) == before && !*noise {
			*deciders = append(*deciders, o)
		}
		if !rs.Continue {
			return
		}
	}
}

// childScore is a best-mode child's score: its words, those of its best
// matching child and so on down, and the model's opinion of its team.
func (x *ref) childScore(rs *RouteSpec, owner string) float64 {
	sc := x.pathScore(rs)
	if x.model != nil {
		if owner == "" {
			owner = x.f.DefaultTeam
		}
		sc += ModelWeight * x.model.TeamScore(owner)
	}
	return sc
}

func (x *ref) pathScore(rs *RouteSpec) float64 {
	best := 0.0
	for i := range rs.Routes {
		if x.holds(&rs.Routes[i].Match) {
			best = max(best, x.pathScore(&rs.Routes[i]))
		}
	}
	return x.wordScore(rs) + best
}

// wordScore counts each distinct word or phrase of text.any and text.all
// that occurs by its number of words, twice in the subject, and a regex
// condition as one.
func (x *ref) wordScore(rs *RouteSpec) float64 {
	seen := map[string]bool{}
	total := 0.0
	var count func(entry string)
	count = func(entry string) {
		w := strings.TrimSpace(entry)
		if name, ok := strings.CutPrefix(w, "$"); ok {
			for _, v := range x.f.Vocabularies[name] {
				count(v)
			}
			return
		}
		exact := strings.HasPrefix(w, "=")
		bare := strings.TrimPrefix(w, "=")
		suffix, prefix := strings.HasPrefix(bare, "*"), strings.HasSuffix(bare, "*")
		words := foldWords(strings.Trim(bare, "*"))
		key := fmt.Sprint(exact && !prefix, suffix, prefix, words)
		if seen[key] {
			return
		}
		seen[key] = true
		if !x.occurs(w) {
			return
		}
		weight := float64(len(words))
		x.subjectOnly = true
		if x.occurs(w) {
			weight *= 2
		}
		x.subjectOnly = false
		total += weight
	}
	for _, e := range rs.Match.Text.Any {
		count(e)
	}
	for _, e := range slices.Concat(rs.Match.Text.All...) {
		count(e)
	}
	if len(rs.Match.Text.Regex) > 0 {
		total++
	}
	return total
}

func refDecide(f *File, st *stemmer, env *message.Envelope, version string, m Model) Decision {
	x := newRef(f, st, env)
	x.model = m
	var matched []string
	var deciders []refOutcome
	noise := false
	x.walk(f.Routes, refOutcome{prio: prioUnset, sticky: true}, false, &matched, &deciders, &noise)
	d := Decision{Version: version, Lang: x.lang, Priority: "normal", Matched: matched, Noise: noise}
	prio := prioUnset
	var owners, copies []string
	for _, o := range deciders {
		d.Topics = union(d.Topics, o.topics)
		d.Tags = union(d.Tags, o.tags)
		if o.owner != "" {
			owners = union(owners, []string{o.owner})
			if d.Route == "" {
				d.Route = o.route
			}
		}
		d.Decided = d.Decided || o.owner != "" && !o.follow || !o.sticky
		copies = union(copies, o.copies)
		prio = max(prio, o.prio)
		d.OverrideThread = d.OverrideThread || !o.sticky
	}
	if noise {
		d.OverrideThread = false
		d.Decided, d.Route = true, deciders[len(deciders)-1].route
		return d
	}
	if len(owners) == 0 {
		owners = []string{f.DefaultTeam}
	}
	d.Teams = union(owners, copies)
	d.Priority = priorityName(prio)
	return d
}

// fixedModel is a model with fixed opinions.
type fixedModel map[string]float64

func (m fixedModel) TeamScore(team string) float64 { return m[team] }

// refTop is the model's top three the straightforward way: every label
// with a probability above 0, sorted by probability, file order first.
func refTop(f *File, m Model) ModelTop {
	var top ModelTop
	if m == nil {
		return top
	}
	var all []ModelScore
	for _, t := range f.Teams {
		all = append(all, ModelScore{t.Name, m.TeamScore(t.Name)})
	}
	all = append(all, ModelScore{NoiseLabel, m.TeamScore(NoiseLabel)})
	all = slices.DeleteFunc(all, func(s ModelScore) bool { return !(s.P > 0) })
	slices.SortStableFunc(all, func(a, b ModelScore) int { return cmp.Compare(b.P, a.P) })
	copy(top[:], all)
	return top
}

// normalized makes nil and empty slices compare equal.
func normalized(d Decision) Decision {
	for _, p := range []*[]string{&d.Teams, &d.Topics, &d.Tags, &d.Matched} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	return d
}

func TestCompiledMatcherAgreesWithStraightforwardEvaluation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sets, texts := 400, 40
	if testing.Short() {
		sets = 100
	}
	st := newStemmer()
	checked, matchedAny, outscored := 0, 0, 0
	for n := range sets {
		f := randomFile(rng)
		data := fileJSON(t, f)
		r, err := parse("prop.yaml", data, parseOptions{noLint: true, stems: st})
		if err != nil {
			t.Fatalf("generated rules do not parse: %v\n%s", err, data)
		}
		var m Model // every other rule set with a model's opinion
		if n%2 == 1 {
			m = fixedModel{"t1": 0.9, "t2": 0.3, "t0": 0.1}
		}
		for range texts {
			env := randomEnvelope(rng)
			want := normalized(refDecide(f, st, env, r.Version(), m))
			want.Model = refTop(f, m)
			got := normalized(r.ClassifyWith(env, m))
			explained, tr := r.ExplainWith(env, m)
			for _, rt := range tr.Routes {
				if rt.Outscored != "" {
					outscored++
					break
				}
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(normalized(explained), want) {
				t.Fatalf("decisions differ for %+v\nrules:\n%s\nClassify: %+v\nExplain:  %+v\nwant:     %+v", env, data, got, normalized(explained), want)
			}
			checked++
			if len(want.Matched) > 0 {
				matchedAny++
			}
		}
	}
	// The generator must exercise matching, not only the default team.
	if matchedAny < checked/4 {
		t.Fatalf("only %d of %d items matched any route; the generator is too weak", matchedAny, checked)
	}
	// mode: best must choose between matching siblings often enough.
	if outscored < checked/100 {
		t.Fatalf("only %d of %d items had a route outscored; the generator is too weak", outscored, checked)
	}
	t.Logf("%d items, %d matched a route, %d had a route outscored", checked, matchedAny, outscored)
}

// fileJSON writes f as JSON (which is YAML), leaving out unset fields so
// that a nil copy_to stays unset while an empty one clears.
func fileJSON(t *testing.T, f *File) []byte {
	t.Helper()
	var teams []any
	for _, ts := range f.Teams {
		teams = append(teams, map[string]any{"name": ts.Name})
	}
	doc := map[string]any{"default_team": f.DefaultTeam, "teams": teams, "vocabularies": f.Vocabularies, "routes": routesJSON(f.Routes)}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func routesJSON(routes []RouteSpec) []any {
	out := []any{}
	for _, rs := range routes {
		m := map[string]any{"id": rs.ID}
		set := func(k string, v any, ok bool) {
			if ok {
				m[k] = v
			}
		}
		set("team", rs.Team, rs.Team != "")
		set("copy_to", rs.CopyTo, rs.CopyTo != nil)
		set("noise", true, rs.Noise)
		set("continue", true, rs.Continue)
		set("priority", rs.Priority, rs.Priority != "")
		set("topics", rs.Topics, rs.Topics != nil)
		set("tags", rs.Tags, rs.Tags != nil)
		set("sticky", rs.Sticky, rs.Sticky != nil)
		set("routes", routesJSON(rs.Routes), len(rs.Routes) > 0)
		set("mode", rs.Mode, rs.Mode != "")
		mt := rs.Match
		match := map[string]any{}
		for k, v := range map[string]List{"channel": mt.Channel, "kind": mt.Kind, "lang": mt.Lang, "tags": mt.Tags} {
			if v != nil {
				match[k] = v
			}
		}
		if mt.Thread != "" {
			match["thread"] = mt.Thread
		}
		if mt.Author.Email != nil {
			match["author"] = map[string]any{"email": mt.Author.Email}
		}
		if mt.Metadata != nil {
			match["metadata"] = mt.Metadata
		}
		text := map[string]any{}
		if mt.Text.All != nil {
			text["all"] = mt.Text.All
		}
		for k, v := range map[string]List{"any": mt.Text.Any, "none": mt.Text.None, "regex": mt.Text.Regex} {
			if v != nil {
				text[k] = v
			}
		}
		if len(text) > 0 {
			match["text"] = text
		}
		if len(match) > 0 {
			m["match"] = match
		}
		out = append(out, m)
	}
	return out
}

// TestLintIsSound: a route lint reports as never matching never matches any
// random item.
func TestLintIsSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	st := newStemmer()
	flagged := 0
	for range 300 {
		f := randomFile(rng)
		data := fileJSON(t, f)
		_, err := parse("prop.yaml", data, parseOptions{stems: st})
		if err == nil {
			continue
		}
		dead := map[string]bool{}
		for _, line := range strings.Split(err.Error(), "\n") {
			_, rest, ok := strings.Cut(line, `route "`)
			if !ok || !strings.Contains(line, "can never match") {
				t.Fatalf("generated rules have another problem: %s\n%s", line, data)
			}
			id, _, _ := strings.Cut(rest, `"`)
			dead[id] = true
		}
		flagged += len(dead)
		r, err := parse("prop.yaml", data, parseOptions{noLint: true, stems: st})
		if err != nil {
			t.Fatal(err)
		}
		for range 100 {
			env := randomEnvelope(rng)
			for _, id := range r.Classify(env).Matched {
				if dead[id] {
					t.Fatalf("route %s was reported as never matching but matched %+v\n%s", id, env, data)
				}
			}
		}
	}
	if flagged == 0 {
		t.Fatal("the generator never produced a shadowed route")
	}
}
