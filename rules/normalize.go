package rules

import (
	"errors"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/switchboard/switchboard/internal/message"
)

// MaxMatchBytes bounds how much of an item's subject and text is matched:
// longer text (a quoted mail thread, a pasted log) is cut there, so one huge
// item cannot stall the router.
const MaxMatchBytes = 64 << 10

// span is one token: bytes [start, end) of the folded text, in segment seg
// (0 subject, 1 text). Phrases never cross segments.
type span struct {
	start, end int32
	seg        int8
	letters    bool // has at least one letter (numbers and emoji are not stemmed)
}

// folder turns text into folded text and tokens. It is not safe for
// concurrent use; each matching goroutine borrows one from a pool.
//
// Folding is NFKC, then Unicode full case folding, then NFKC again when
// folding denormalized, then diacritics: ä, ö and å stay letters of their
// own (Finnish and Swedish), every other Latin letter with combining accents
// folds to its base letter (café → cafe), and leftover combining accents,
// variation selectors, emoji skin tones and zero-width joiners are dropped.
// Tokens are runs of letters and digits; each emoji or other symbol is a
// token by itself; everything else separates tokens.
type folder struct {
	caser  *cases.Caser // a pointer: boxing a Caser into a Transformer allocates
	tmp    []byte
	tmp2   []byte
	folded []byte
	toks   []span
}

func newFolder() *folder {
	c := cases.Fold()
	return &folder{caser: &c}
}

// reset empties the folder for a new item.
func (f *folder) reset() {
	f.folded = f.folded[:0]
	f.toks = f.toks[:0]
}

// add folds s as segment seg, appending to the folded text and tokens, and
// stops at MaxMatchBytes of input in total.
func (f *folder) add(s string, seg int8) {
	if len(f.folded) > 0 {
		f.folded = append(f.folded, '\n')
	}
	budget := MaxMatchBytes - len(f.folded)
	if budget <= 0 {
		return
	}
	s = message.Cut(s, budget)
	if isASCII(s) {
		f.addASCII(s, seg)
		return
	}
	// The normalized prefix is copied as it is; only the rest is run
	// through NFKC (IsNormalString would allocate).
	n := norm.NFKC.QuickSpanString(s)
	f.tmp = append(f.tmp[:0], s[:n]...)
	if n < len(s) {
		f.tmp = norm.NFKC.AppendString(f.tmp, s[n:])
	}
	f.tmp2 = f.foldCase(f.tmp2[:0], f.tmp)
	src := f.tmp2
	if !norm.NFKC.IsNormal(src) {
		f.tmp = norm.NFKC.Append(f.tmp[:0], src...)
		src = f.tmp
	}
	f.addRunes(src, seg)
}

// foldCase appends src with Unicode full case folding (cases.Fold) to dst.
// Folding is context-free, so it is done piecewise: ASCII and the Latin-1
// letters of Finnish and Swedish directly, every other run of non-ASCII
// bytes through the caser. That keeps the caser's per-call cost off long,
// mostly-ASCII texts.
func (f *folder) foldCase(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c < 0x80:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		case c == 0xC3 && i+1 < len(src) && latin1Letter(src[i+1]):
			// U+00C0-U+00DE uppercase (fold: +0x20), U+00E0-U+00FF lowercase.
			d := src[i+1]
			if d < 0xA0 {
				d += 0x20
			}
			dst = append(dst, 0xC3, d)
			i += 2
			continue
		}
		j := i + 1
		for j < len(src) && src[j] >= 0x80 && !(src[j] == 0xC3 && j+1 < len(src) && latin1Letter(src[j+1])) {
			j++
		}
		dst = transformAppend(f.caser, dst, src[i:j])
		i = j
	}
	return dst
}

// latin1Letter reports whether 0xC3 followed by b is a Latin-1 letter whose
// case folding is a plain +0x20 (À-Þ) or itself (à-ÿ): every one but ×, ÷
// and ß (which folds to "ss").
func latin1Letter(b byte) bool {
	return b >= 0x80 && b <= 0xBF && b != 0x97 && b != 0xB7 && b != 0x9F
}

func (f *folder) addASCII(s string, seg int8) {
	if start := foldASCII(f, s, -1, seg); start >= 0 {
		f.emit(start, seg)
	}
}

// foldASCII appends s, all ASCII, to f's folded text, in lower case: a
// letter or digit opens a token unless one is open (start >= 0), anything
// else ends the open one. It returns the start of the token still open, -1
// for none. It takes a run of bytes, not one, to keep the per-byte loop
// free of calls.
func foldASCII[S string | []byte](f *folder, s S, start int, seg int8) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		word := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if word && start < 0 {
			start = len(f.folded)
		} else if !word && start >= 0 {
			f.emit(start, seg)
			start = -1
		}
		f.folded = append(f.folded, c)
	}
	return start
}

// emit records the token from start to the end of the folded text.
func (f *folder) emit(start int, seg int8) {
	f.toks = append(f.toks, span{int32(start), int32(len(f.folded)), seg, hasLetter(f.folded[start:])})
}

func (f *folder) addRunes(b []byte, seg int8) {
	start := -1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		src := b[i : i+size]
		i += size
		switch {
		case r < utf8.RuneSelf:
			// The whole run of ASCII from here.
			j := i
			for j < len(b) && b[j] < utf8.RuneSelf {
				j++
			}
			start = foldASCII(f, b[i-size:j], start, seg)
			i = j
		case r == utf8.RuneError:
			// Invalid UTF-8 (or U+FFFD): a separator, and no stray bytes in
			// the folded text.
			if start >= 0 {
				f.emit(start, seg)
				start = -1
			}
			f.folded = append(f.folded, ' ')
		case dropped(r):
			// Accents left over, variation selectors, skin tones, ZWJ: gone,
			// without splitting the word they sit in.
		case r == 'ä' || r == 'ö' || r == 'å':
			if start < 0 {
				start = len(f.folded)
			}
			f.folded = append(f.folded, src...)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			if start < 0 {
				start = len(f.folded)
			}
			f.folded = appendBase(f.folded, r, src)
		case unicode.Is(unicode.So, r):
			if start >= 0 {
				f.emit(start, seg)
			}
			s := len(f.folded)
			f.folded = append(f.folded, src...)
			f.toks = append(f.toks, span{int32(s), int32(len(f.folded)), seg, false})
			start = -1
		default:
			if start >= 0 {
				f.emit(start, seg)
				start = -1
			}
			f.folded = append(f.folded, src...)
		}
	}
	if start >= 0 {
		f.emit(start, seg)
	}
}

// appendBase appends r without its accents when r is a letter whose
// canonical decomposition is a base letter and combining accents (é → e),
// else r as it is.
func appendBase(dst []byte, r rune, src []byte) []byte {
	if r < 0xC0 {
		return append(dst, src...)
	}
	d := norm.NFD.Properties(src).Decomposition()
	if len(d) == 0 {
		return append(dst, src...)
	}
	base, n := utf8.DecodeRune(d)
	for rest := d[n:]; len(rest) > 0; {
		m, size := utf8.DecodeRune(rest)
		if !combiningAccent(m) {
			return append(dst, src...)
		}
		rest = rest[size:]
	}
	return utf8.AppendRune(dst, base)
}

// combiningAccent reports whether r is in the Combining Diacritical Marks block.
func combiningAccent(r rune) bool { return r >= 0x300 && r <= 0x36F }

// dropped reports whether r disappears in folding: combining accents,
// variation selectors, emoji skin-tone modifiers and the zero-width joiner.
func dropped(r rune) bool {
	return combiningAccent(r) ||
		r >= 0xFE00 && r <= 0xFE0F ||
		r >= 0x1F3FB && r <= 0x1F3FF ||
		r == 0x200D || r == 0x200C ||
		r >= 0xE0020 && r <= 0xE007F // tag characters of flag sequences
}

// hasLetter reports whether the token b has a letter (it is stemmed then).
func hasLetter(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			if c >= 'a' && c <= 'z' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if unicode.IsLetter(r) {
			return true
		}
		i += size
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// transformAppend runs t over all of src, appending to dst, growing dst as
// needed; it allocates only when dst is too small.
func transformAppend(t transform.Transformer, dst, src []byte) []byte {
	t.Reset()
	for {
		if cap(dst)-len(dst) < len(src)+16 {
			grown := make([]byte, len(dst), 2*cap(dst)+len(src)+16)
			copy(grown, dst)
			dst = grown
		}
		nDst, nSrc, err := t.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+nDst]
		src = src[nSrc:]
		if err == nil {
			return dst
		}
		if !errors.Is(err, transform.ErrShortDst) {
			// Case folding never fails on valid input; keep what we have
			// plus the rest unfolded rather than lose text.
			return append(dst, src...)
		}
	}
}

// token returns the bytes of token i.
func (f *folder) token(i int) []byte { return f.folded[f.toks[i].start:f.toks[i].end] }

// foldWords folds s on its own and returns its tokens as strings, for rule
// terms and tests.
func foldWords(s string) []string {
	f := newFolder()
	f.add(s, 1)
	out := make([]string, len(f.toks))
	for i := range f.toks {
		out[i] = string(f.token(i))
	}
	return out
}

// FoldText returns s as the matcher sees it: case-folded and normalized,
// accents folded except ä, ö and å. Regular expressions are matched against
// this form.
func FoldText(s string) string {
	f := newFolder()
	f.add(s, 1)
	return string(f.folded)
}
