package identity

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeName returns the form in which two display names are compared,
// or "" when the name is not usable for linking at all.
//
// Letters are lowercased and stripped of diacritics ("Meikäläinen" and
// "meikalainen" are equal; so are "Åsa" and "asa"); anything in
// parentheses or brackets and anything after '|' or '/' is dropped
// ("Matti Meikäläinen (Yritys Oy)"); hyphens, commas and other punctuation
// separate words ("Anna-Liisa" = "Anna Liisa"; "Meikäläinen, Matti");
// apostrophes join them ("O'Brien" = "OBrien"). Words are sorted, because
// Finnish systems often write the family name first ("Meikäläinen Matti").
// Single-letter initials, digits and emoji are dropped. A name needs at
// least two words of two letters or more: "Matti" alone, a nickname or an
// emoji is never used. At most five words are kept.
func NormalizeName(s string) string {
	if len(s) > 256 {
		s = s[:256]
	}
	if i := strings.IndexAny(s, "|/"); i >= 0 {
		s = s[:i]
	}
	var words []string
	var w strings.Builder
	depth := 0
	flush := func() {
		if utf8.RuneCountInString(w.String()) >= 2 {
			words = append(words, w.String())
		}
		w.Reset()
	}
	for _, r := range s {
		switch {
		case r == '(' || r == '[' || r == '{':
			depth++
			flush()
			continue
		case r == ')' || r == ']' || r == '}':
			if depth > 0 {
				depth--
			}
			flush()
			continue
		}
		if depth > 0 {
			continue
		}
		switch {
		case r == '\'' || r == '’' || r == '`':
			// inside a word: O'Brien
		case unicode.IsLetter(r):
			foldInto(&w, r)
		case unicode.IsMark(r):
			// a combining accent of a decomposed letter
		default:
			flush()
		}
	}
	flush()
	if len(words) < 2 {
		return ""
	}
	if len(words) > 5 {
		words = words[:5]
	}
	slices.Sort(words)
	return strings.Join(words, " ")
}

// foldInto writes r lowercased and without diacritics to w.
func foldInto(w *strings.Builder, r rune) {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		w.WriteByte(byte(r))
		return
	}
	w.WriteString(foldRune(r))
}

// foldRune lowercases r and strips its diacritics, for the Latin letters
// names in Finland, Sweden and their neighbours use; other letters are
// only lowercased.
func foldRune(r rune) string {
	r = unicode.ToLower(r)
	switch r {
	case 'ä', 'å', 'á', 'à', 'â', 'ã', 'ā', 'ą':
		return "a"
	case 'ö', 'ø', 'ó', 'ò', 'ô', 'õ', 'ō', 'ő':
		return "o"
	case 'é', 'è', 'ê', 'ë', 'ē', 'ę', 'ė':
		return "e"
	case 'ü', 'ú', 'ù', 'û', 'ū', 'ű', 'ų':
		return "u"
	case 'í', 'ì', 'î', 'ï', 'ī', 'į':
		return "i"
	case 'š', 'ś':
		return "s"
	case 'ž', 'ź', 'ż':
		return "z"
	case 'č', 'ć', 'ç':
		return "c"
	case 'ñ', 'ń':
		return "n"
	case 'ý', 'ÿ':
		return "y"
	case 'ł':
		return "l"
	case 'ß':
		return "ss"
	case 'æ':
		return "ae"
	case 'đ', 'ð':
		return "d"
	case 'þ':
		return "th"
	}
	return string(r)
}
