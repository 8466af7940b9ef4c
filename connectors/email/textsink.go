package email

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ellipsis marks text that was cut.
const ellipsis = "…"

// textSink is where every text transformation of a mail writes its output
// (HTML to text, format=flowed unwrapping, joining parts, the reply split).
// It normalises the text as it arrives and keeps at most limit bytes of it,
// so no mail, however it is built, makes more text than that: the cap holds
// while the text is produced, not after. A producer stops once full reports
// true; whatever it would still write is lost anyway.
//
// Normalising makes valid multi-line text: a run of invalid UTF-8 becomes
// one U+FFFD; C1 controls (windows-1252 text labelled ISO-8859-1) become
// what windows-1252 meant; CRLF and CR become LF; other control characters,
// byte order marks and zero-width spaces are dropped; a no-break space
// becomes a space; white space at the end of every line and around the
// whole text is dropped. Cut text ends with "…" (within the limit).
type textSink struct {
	b     []byte
	limit int
	// cut reports that text was lost to the limit.
	cut bool
	// started reports that a character other than white space was kept.
	started bool
	// newlines and spaces are the white space since the last character
	// kept, written only when another character follows. spaces is the
	// horizontal white space after the last line break; spacesLost that
	// more of it was pending than could ever fit.
	newlines   int
	spaces     []byte
	spacesLost bool
	// cr reports that the last byte was a CR, so that an LF after it
	// belongs to the same line break.
	cr bool
	// invalid reports that the last byte was invalid UTF-8.
	invalid bool
}

// newTextSink returns a sink keeping at most limit bytes.
func newTextSink(limit int) *textSink {
	return &textSink{limit: max(limit, 0)}
}

// full reports that the limit was reached: producers stop writing.
func (w *textSink) full() bool { return w.cut }

// len is the number of bytes kept so far.
func (w *textSink) len() int { return len(w.b) }

// String returns the text kept, ending in "…" when some was cut.
func (w *textSink) String() string {
	if w.cut && w.limit >= len(ellipsis) {
		return string(w.b) + ellipsis
	}
	return string(w.b)
}

// WriteString normalises s into the sink; it returns false once the sink
// is full.
func (w *textSink) WriteString(s string) bool {
	for i := 0; i < len(s) && !w.cut; {
		if c := s[i]; c < utf8.RuneSelf {
			w.writeASCII(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		w.writeRune(r, n == 1)
		i += n
	}
	return !w.cut
}

// WriteByte writes one ASCII byte (a line break, '>', a space).
func (w *textSink) WriteByte(c byte) error {
	if c < utf8.RuneSelf {
		w.writeASCII(c)
	} else {
		w.writeRune(utf8.RuneError, true)
	}
	return nil
}

// WriteRune writes one character.
func (w *textSink) WriteRune(r rune) {
	if r < utf8.RuneSelf {
		w.writeASCII(byte(r))
	} else {
		w.writeRune(r, false)
	}
}

func (w *textSink) writeASCII(c byte) {
	if w.cut {
		return
	}
	w.invalid = false
	switch {
	case c == '\n':
		if !w.cr {
			w.lineBreak()
		}
		w.cr = false
		return
	case c == '\r':
		w.lineBreak()
		w.cr = true
		return
	}
	w.cr = false
	switch {
	case c == ' ' || c == '\t':
		w.space(c)
	case c < ' ' || c == 0x7f:
		// Other control characters are dropped.
	default:
		if w.room(1) {
			w.b = append(w.b, c)
		}
	}
}

// writeRune writes a non-ASCII rune; bad reports invalid UTF-8.
func (w *textSink) writeRune(r rune, bad bool) {
	if w.cut {
		return
	}
	w.cr = false
	if bad {
		if w.invalid {
			return // one U+FFFD per run
		}
		w.invalid = true
		r = utf8.RuneError
	} else {
		w.invalid = false
	}
	if isC1(r) {
		d := charmap.Windows1252.DecodeByte(byte(r))
		if d == utf8.RuneError || isC1(d) {
			return
		}
		r = d
	}
	switch {
	case r == '\u00a0':
		w.space(' ')
	case r == '\ufeff' || r == '\u200b' || unicode.IsControl(r):
	case unicode.IsSpace(r):
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		for _, c := range buf[:n] {
			w.space(c)
		}
	default:
		if n := utf8.RuneLen(r); w.room(n) {
			w.b = utf8.AppendRune(w.b, r)
		}
	}
}

// lineBreak records a line break; the white space before it is dropped.
func (w *textSink) lineBreak() {
	if !w.started {
		return
	}
	w.newlines++
	w.spaces = w.spaces[:0]
	w.spacesLost = false
}

// space records one byte of horizontal white space.
func (w *textSink) space(c byte) {
	if !w.started {
		return
	}
	if len(w.spaces) >= w.limit {
		w.spacesLost = true
		return
	}
	w.spaces = append(w.spaces, c)
}

// room writes the pending white space and reports whether n more bytes fit
// after it; if not, the sink is full.
func (w *textSink) room(n int) bool {
	pending := w.newlines + len(w.spaces)
	if w.spacesLost || len(w.b)+pending+n > w.limit {
		// Make room for the ellipsis, on a character boundary.
		w.cut = true
		if keep := max(w.limit-len(ellipsis), 0); keep < len(w.b) {
			for keep > 0 && !utf8.RuneStart(w.b[keep]) {
				keep--
			}
			w.b = w.b[:keep]
		}
		return false
	}
	for ; w.newlines > 0; w.newlines-- {
		w.b = append(w.b, '\n')
	}
	w.b = append(w.b, w.spaces...)
	w.spaces = w.spaces[:0]
	w.started = true
	return true
}
