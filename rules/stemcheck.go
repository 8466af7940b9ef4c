package rules

import (
	"slices"
	"strings"
)

// falseFriends are English words that Snowball's stemmer reduces to the
// stem of a word of another meaning, as customer service sees them:
// "charge" (a fee) catches "charging" (a phone), "package" catches
// "packaging", "terminate" catches "terminal". A rule word whose stem is one
// of theirs gets a warning naming them. The list is short on purpose: only
// clearly different words, so that the warning is worth reading; a
// dictionary would be needed to find them all.
//
// Each entry is one word with its inflections: a rule word that is one of
// them is not warned about its own family.
var falseFriends = [][]string{
	{"charging"}, {"packaging"}, {"terminal", "terminals"}, {"reporter", "reporters"},
	{"accountant", "accountants"}, {"operator", "operators"}, {"organization", "organizations"},
	{"university", "universities"}, {"universe"}, {"training"}, {"booking", "bookings"},
	{"parking"}, {"shipping"}, {"savings"}, {"marketing"}, {"meeting", "meetings"},
	{"building", "buildings"}, {"settings"}, {"listing", "listings"}, {"warning", "warnings"},
	{"feeling", "feelings"},
}

// stemWarnings warns about rule words whose English stem also catches a
// false friend the rules do not list themselves (a file that lists both
// ship and shipping means both).
func (b *builder) stemWarnings() {
	listed := map[string]bool{}
	for _, t := range b.terms {
		listed[strings.Join(t.forms[0].toks, " ")] = true
	}
	friends := map[string][][]string{} // stem → families
	for _, fam := range falseFriends {
		st := b.stems.stemString(langEn, fam[0])
		friends[st] = append(friends[st], fam)
	}
	for id, t := range b.terms {
		if !t.stemmed() || len(t.forms[0].toks) != 1 {
			continue
		}
		word, stem := t.forms[0].toks[0], t.forms[0].stems[langEn][0]
		var caught []string
		for _, fam := range friends[stem] {
			if slices.Contains(fam, word) {
				continue
			}
			for _, f := range fam {
				if !listed[f] && !(t.suffix && !strings.HasSuffix(f, word)) {
					caught = append(caught, f)
				}
			}
		}
		if len(caught) == 0 {
			continue
		}
		b.warn(b.termPaths[id], "%q is matched by its stem %q, which also catches %s, usually about something else: write =%s and each other form you mean, or add %s to text.none",
			t.text, stem, quoteJoin(caught), word, quoteJoin(caught))
	}
}

func quoteJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = `"` + w + `"`
	}
	return strings.Join(q, ", ")
}
