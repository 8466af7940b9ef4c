package classify

import (
	"bytes"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Feature kinds: each is hashed with its own seed, so that the word "lasku",
// its stem "lasku" and a gram never share a feature id by construction.
const (
	seedWord   uint32 = 0x9e3779b1 // the word with ä, ö and å kept, when it has one
	seedStrip  uint32 = 0x85ebca77 // the word with ä, ö, å as a, o, a
	seedGram   uint32 = 0xc2b2ae3d // a character n-gram of "<stripped>"
	seedStem   uint32 = 0x27d4eb2f // a stem, per language
	seedNumber uint32 = 0xd3a2646c // a number's length ("a 7-digit number")
)

// gramBit is set in the ids of character n-grams and clear in all others,
// so that the model can weigh grams apart from whole words and stems
// (Options.GramWeight).
const gramBit = 1 << 31

const (
	// MaxFeatures bounds the features of one message: words after it are
	// ignored, so one huge item (a pasted log) costs bounded time and memory.
	MaxFeatures = 1 << 14
	// minGram and maxGram are the lengths of the character n-grams, in
	// runes, counting the word boundaries "<" and ">".
	minGram, maxGram = 3, 5
	// maxGramWord: longer words (URLs, hashes, base64) are hashed whole, with
	// no grams; they are rarely useful and would flood the message.
	maxGramWord = 40
	// maxWordFeatures is the most features one AddWord can add: the word,
	// its stripped form and three grams per rune position.
	maxWordFeatures = 2 + 3*(maxGramWord+2)
)

// Vectorizer turns the words of one message into feature ids for Model and
// Train. It is fed by the caller's tokenizer, word by word, in text order:
// AddWord with each folded word (lowercase, NFKC, ä, ö and å kept), AddStem
// with each stem the caller computed.
//
// A word adds these features:
//   - the word with ä, ö and å replaced by a, o and a (so "myohassa" meets
//     "myöhässä"), and the word as written when it has ä, ö or å;
//   - character n-grams of 3 to 5 letters of "<word>" (diacritics replaced,
//     "<" and ">" marking the word's start and end), which is what lets
//     inflections, compounds, typos and dialect share features with the
//     forms in the examples;
//   - for a number, only the number and its length ("7 digits"), no grams.
//
// Each distinct word and stem counts once per message: repeating a word
// (a quoted thread) does not make it weigh more. Grams do repeat across
// words: "ssa>" from many words counts many times.
//
// Feature ids are 32-bit hashes, independent of the model's size: the Model
// folds them into its buckets. The same words always give the same ids, on
// every machine.
//
// A Vectorizer is not safe for concurrent use; keep one per goroutine. It
// allocates only while its buffers grow to the largest message seen, at
// most MaxFeatures ids.
type Vectorizer struct {
	ids []uint32
	// seen is an open-addressing set of the hashes of the words and stems
	// added since Reset (0 marks an empty slot); n counts them.
	seen []uint32
	n    int
}

// NewVectorizer returns an empty Vectorizer.
func NewVectorizer() *Vectorizer {
	return &Vectorizer{seen: make([]uint32, 256), ids: make([]uint32, 0, 256)}
}

// Reset empties v for the next message, keeping its buffers.
func (v *Vectorizer) Reset() {
	v.ids = v.ids[:0]
	if v.n > 0 {
		clear(v.seen)
		v.n = 0
	}
}

// Features returns the feature ids added since Reset. The slice is v's own:
// it is valid until the next Reset and must not be modified; copy it to
// keep it (Doc.Features).
func (v *Vectorizer) Features() []uint32 { return v.ids }

// AddWord adds the features of one folded word: case-folded and
// NFKC-normalized, ä, ö and å kept, other accents removed (what the rules
// package's folding produces). Empty words and words after MaxFeatures are
// ignored; any bytes, valid UTF-8 or not, are accepted.
//
// AddWord reports whether the word added its own features: false when it
// is empty, past MaxFeatures, or already in the message. Its stems would
// then add nothing either, so the caller may skip stemming it.
func (v *Vectorizer) AddWord(folded []byte) bool {
	if len(folded) == 0 || len(v.ids)+maxWordFeatures > MaxFeatures {
		return false
	}
	var buf [4 * (maxGramWord + 2)]byte
	stripped, hasDiacritic := stripDiacritics(buf[:0], folded)
	sh := hashBytes(seedStrip, stripped)
	key := sh
	if hasDiacritic {
		key = hashBytes(seedWord, folded)
	}
	if !v.firstTime(key) {
		return false
	}
	v.ids = append(v.ids, sh)
	if hasDiacritic {
		v.ids = append(v.ids, key)
	}
	switch wordKind(stripped) {
	case kindNumber:
		v.ids = append(v.ids, mix(seedNumber^uint32(min(len(stripped), 20)))&^gramBit)
	case kindLetters:
		v.ids = appendGrams(v.ids, stripped)
	}
	return true
}

// AddStem adds the stem of a word in a language ("fi", "en", "sv"; any
// short string): stems of one language never meet those of another. Stems
// are compared with ä, ö and å replaced, as words are (stems up to
// maxStripStem bytes; longer ones as they are). Empty stems and stems after
// MaxFeatures are ignored.
func (v *Vectorizer) AddStem(lang string, stem []byte) { addStem(v, lang, stem) }

// AddStemString is AddStem for a stem held as a string (a stemmer's cache),
// without converting it: the same stem adds the same feature either way.
func (v *Vectorizer) AddStemString(lang, stem string) { addStem(v, lang, stem) }

// maxStripStem: stems longer than this are hashed as they are, ä, ö and å
// included.
const maxStripStem = 64

func addStem[T string | []byte](v *Vectorizer, lang string, stem T) {
	if len(stem) == 0 || len(v.ids)+1 > MaxFeatures {
		return
	}
	if id := stemID(lang, stem); v.firstTime(id) {
		v.ids = append(v.ids, id)
	}
}

// stemID hashes a stem of a language: FNV-1a of the stem with ä, ö and å
// read as a, o and a (what stripDiacritics would give), seeded by the
// language, finished with mix.
func stemID[T string | []byte](lang string, stem T) uint32 {
	h := seedStem
	for i := 0; i < len(lang); i++ {
		h = (h ^ uint32(lang[i])) * 0x01000193
	}
	strip := len(stem) <= maxStripStem
	for i := 0; i < len(stem); i++ {
		c := stem[i]
		if strip && c == 0xC3 && i+1 < len(stem) {
			switch stem[i+1] {
			case 0xA4, 0xA5, 0x84, 0x85: // ä å Ä Å
				c = 'a'
				i++
			case 0xB6, 0x96: // ö Ö
				c = 'o'
				i++
			}
		}
		h = (h ^ uint32(c)) * 0x01000193
	}
	return mix(h) &^ gramBit
}

// firstTime adds h to the seen set and reports whether it was new.
func (v *Vectorizer) firstTime(h uint32) bool {
	if h == 0 {
		h = 1
	}
	if 2*(v.n+1) > len(v.seen) {
		v.grow()
	}
	mask := uint32(len(v.seen) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch v.seen[i] {
		case h:
			return false
		case 0:
			v.seen[i] = h
			v.n++
			return true
		}
	}
}

// grow doubles the seen set, re-inserting what it holds.
func (v *Vectorizer) grow() {
	old := v.seen
	v.seen = make([]uint32, 2*len(old))
	mask := uint32(len(v.seen) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for v.seen[i] != 0 {
			i = (i + 1) & mask
		}
		v.seen[i] = h
	}
}

// stripDiacritics appends w to dst with ä, ö and å (and their capitals)
// replaced by a, o and a, and reports whether it replaced any. Words
// without them, and words longer than dst's capacity, are returned as they
// are, not copied.
func stripDiacritics(dst, w []byte) ([]byte, bool) {
	if len(w) > cap(dst) || bytes.IndexByte(w, 0xC3) < 0 {
		return w, false // nothing to replace: no copy
	}
	found := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == 0xC3 && i+1 < len(w) {
			switch w[i+1] {
			case 0xA4, 0xA5, 0x84, 0x85: // ä å Ä Å
				dst = append(dst, 'a')
				i++
				found = true
				continue
			case 0xB6, 0x96: // ö Ö
				dst = append(dst, 'o')
				i++
				found = true
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst, found
}

const (
	kindOther   = iota // emoji, symbols, invalid UTF-8: the word alone
	kindNumber         // digits only
	kindLetters        // at least one letter
)

// wordKind classifies a (stripped) word.
func wordKind(w []byte) int {
	digits := true
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
				return kindLetters
			case c < '0' || c > '9':
				digits = false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(w[i:])
		if unicode.IsLetter(r) {
			return kindLetters
		}
		digits = false
		i += size
	}
	if digits {
		return kindNumber
	}
	return kindOther
}

// appendGrams appends the hashes of the 3- to 5-rune grams of "<w>" to dst.
// Words longer than maxGramWord runes get none.
func appendGrams(dst []uint32, w []byte) []uint32 {
	var buf [4*maxGramWord + 2]byte
	if len(w) > len(buf)-2 {
		return dst
	}
	s := append(append(append(buf[:0], '<'), w...), '>')
	if isASCII(w) {
		if len(w) > maxGramWord {
			return dst
		}
		return appendASCIIGrams(dst, s)
	}
	// starts[i] is the byte offset of rune i in "<w>"; starts[n] its length.
	var starts [maxGramWord + 3]int
	n := 0
	for i := 0; i < len(s); {
		if n == maxGramWord+2 {
			return dst // too many runes
		}
		starts[n] = i
		n++
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRune(s[i:])
		i += size
	}
	starts[n] = len(s)
	for i := 0; i+minGram <= n; i++ {
		h := seedGram
		for j := starts[i]; j < starts[i+minGram-1]; j++ {
			h = (h ^ uint32(s[j])) * 0x01000193
		}
		for m := minGram; m <= maxGram && i+m <= n; m++ {
			for j := starts[i+m-1]; j < starts[i+m]; j++ {
				h = (h ^ uint32(s[j])) * 0x01000193
			}
			dst = append(dst, mix(h)|gramBit)
		}
	}
	return dst
}

// appendASCIIGrams is appendGrams for "<w>" all ASCII (one byte a rune),
// the usual case once ä, ö and å are replaced.
func appendASCIIGrams(dst []uint32, s []byte) []uint32 {
	n := len(s)
	if n < minGram {
		return dst
	}
	dst = slices.Grow(dst, 3*n)
	for i := 0; i+minGram <= n; i++ {
		h := (seedGram ^ uint32(s[i])) * 0x01000193
		h = (h ^ uint32(s[i+1])) * 0x01000193
		h = (h ^ uint32(s[i+2])) * 0x01000193
		dst = append(dst, mix(h)|gramBit)
		if i+4 > n {
			continue
		}
		h = (h ^ uint32(s[i+3])) * 0x01000193
		dst = append(dst, mix(h)|gramBit)
		if i+5 > n {
			continue
		}
		h = (h ^ uint32(s[i+4])) * 0x01000193
		dst = append(dst, mix(h)|gramBit)
	}
	return dst
}

// isASCII reports whether b has only ASCII bytes.
func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hashBytes is 32-bit FNV-1a of b from seed, finished with mix.
func hashBytes(seed uint32, b []byte) uint32 {
	h := seed
	for _, c := range b {
		h = (h ^ uint32(c)) * 0x01000193
	}
	return mix(h) &^ gramBit
}

// mix is MurmurHash3's 32-bit finalizer: every input bit affects every
// output bit, so the low bits that pick a bucket are well spread.
func mix(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
