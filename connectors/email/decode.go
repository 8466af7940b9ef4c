package email

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	// Importing charset also sets go-message's package-level
	// message.CharsetReader (its init); this package only calls
	// charset.Reader directly.
	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"

	"github.com/switchboard/switchboard/internal/message"
)

// decodeTransfer undoes a Content-Transfer-Encoding leniently: broken
// quoted-printable or base64 decodes as far as it goes and never fails. It
// returns a problem description when the input was damaged.
func decodeTransfer(enc string, body []byte) ([]byte, string) {
	switch e := strings.ToLower(strings.TrimSpace(enc)); e {
	case "quoted-printable":
		return decodeQP(body), ""
	case "base64":
		return decodeBase64(body)
	case "", "7bit", "8bit", "binary":
		return body, ""
	default:
		return body, "unknown Content-Transfer-Encoding " + quote(e) + "; kept as is"
	}
}

// decodeQP decodes quoted-printable, keeping malformed escapes literally.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		// A soft line break: "=", optional transport padding, end of line.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case j == len(b):
			i = j
			continue
		case b[j] == '\n':
			i = j
			continue
		case b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n':
			i = j + 1
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, '=')
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// decodeBase64 decodes base64, skipping line breaks and stray characters.
// Padding inside the data (mailers that encode each line on its own) starts
// a new run, so that such bodies decode correctly too. It decodes through a
// small buffer into one output buffer of the decoded size.
func decodeBase64(b []byte) ([]byte, string) {
	out := make([]byte, 0, base64.StdEncoding.DecodedLen(len(b)))
	var buf [4 << 10]byte // a multiple of 4: a full buffer decodes on its own
	run := buf[:0]
	stray, cut := false, false
	flush := func(end bool) {
		if end && len(run)%4 == 1 {
			run = run[:len(run)-1]
			cut = true
		}
		out = slices.Grow(out, base64.RawStdEncoding.DecodedLen(len(run)))
		n, _ := base64.RawStdEncoding.Decode(out[len(out):cap(out)], run)
		out = out[:len(out)+n]
		run = run[:0]
	}
	add := func(c byte) {
		run = append(run, c)
		if len(run) == len(buf) {
			flush(false)
		}
	}
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			add(c)
		case c == '-':
			add('+')
		case c == '_':
			add('/')
		case c == '=':
			if len(run) > 0 {
				flush(true)
			}
		case c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			stray = true
		}
	}
	if len(run) > 0 {
		flush(true)
	}
	switch {
	case cut:
		return out, "base64 body ends in the middle of a byte"
	case stray:
		return out, "base64 body contains characters outside the alphabet"
	}
	return out, ""
}

// decodeCharset converts b from the declared charset to UTF-8 and never
// fails. guessed reports that the label could not be trusted: bytes labelled
// UTF-8 (or not labelled) that are not UTF-8 are read byte by byte as
// windows-1252, bytes labelled with a Latin charset that are in fact UTF-8
// are read as UTF-8, ISO-8859-1 text using windows-1252's extra characters
// is read as windows-1252, and an unknown label falls back to the same guess.
func decodeCharset(declared string, b []byte) (text string, guessed bool) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(declared), `"'`))
	if isASCII(b) && asciiCompatible(cs) {
		return string(b), false
	}
	validUTF8 := utf8.Valid(b)
	switch {
	case cs == "utf-8" || cs == "utf8":
		if validUTF8 {
			return string(b), false
		}
		return utf8OrWindows1252(b), true
	case cs == "" || cs == "us-ascii" || cs == "ascii" || cs == "unknown-8bit" || cs == "x-unknown" || cs == "default":
		// Undeclared 8-bit text: UTF-8 where it is valid UTF-8, else the
		// usual Western legacy charset.
		if validUTF8 {
			return string(b), cs != ""
		}
		return utf8OrWindows1252(b), true
	case isLatin(cs):
		// Valid multi-byte UTF-8 is practically never Latin text.
		if validUTF8 {
			return string(b), true
		}
		if isLatin1Label(cs) {
			// As browsers do: an ISO-8859-1 label means windows-1252 in
			// practice. Bytes 0x80-0x9F are control characters in
			// ISO-8859-1, so their presence proves the label wrong.
			return windows1252(b), hasC1Bytes(b)
		}
	}
	if cs == "windows-1252" || cs == "cp1252" {
		return windows1252(b), false
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		return utf8OrWindows1252(b), true
	}
	// Decoded straight into the result, through io.Copy's small buffer.
	var out strings.Builder
	out.Grow(len(b) + len(b)/2)
	_, err = io.Copy(&out, r)
	if err != nil || !utf8.ValidString(out.String()) {
		return strings.ToValidUTF8(out.String(), "\uFFFD"), true
	}
	return out.String(), false
}

// asciiCompatible reports whether pure ASCII bytes mean the same in cs.
func asciiCompatible(cs string) bool {
	for _, p := range []string{"utf-16", "utf16", "utf-32", "utf32", "utf-7", "utf7", "iso-2022", "hz-gb", "ucs-2", "ucs2"} {
		if strings.HasPrefix(cs, p) {
			return false
		}
	}
	return true
}

// isLatin reports whether cs names a single-byte Latin charset.
func isLatin(cs string) bool {
	for _, p := range []string{"iso-8859-", "iso8859-", "iso_8859-", "windows-125", "cp125", "latin", "l1", "x-mac-roman", "macintosh"} {
		if strings.HasPrefix(cs, p) {
			return true
		}
	}
	return false
}

func isLatin1Label(cs string) bool {
	switch cs {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1", "latin-1", "l1":
		return true
	}
	return false
}

func hasC1Bytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 && c <= 0x9f {
			return true
		}
	}
	return false
}

// windows1252 decodes b as windows-1252 into a string of exactly its
// UTF-8 size.
func windows1252(b []byte) string {
	n := len(b)
	for _, c := range b {
		if c >= utf8.RuneSelf {
			n += utf8.RuneLen(charmap.Windows1252.DecodeByte(c)) - 1
		}
	}
	var s strings.Builder
	s.Grow(n)
	for _, c := range b {
		if c < utf8.RuneSelf {
			s.WriteByte(c)
		} else {
			s.WriteRune(charmap.Windows1252.DecodeByte(c))
		}
	}
	return s.String()
}

// utf8OrWindows1252 keeps every valid UTF-8 sequence of b and reads each
// byte that is not part of one as windows-1252: right for Latin-1 text, for
// UTF-8 text, and for UTF-8 text with a few stray Latin-1 bytes.
func utf8OrWindows1252(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) + len(b)/4)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			if d := charmap.Windows1252.DecodeByte(b[0]); d != utf8.RuneError {
				s.WriteRune(d)
			} else {
				s.WriteRune('\uFFFD')
			}
			b = b[1:]
			continue
		}
		s.Write(b[:size])
		b = b[size:]
	}
	return s.String()
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// newWordDecoder decodes RFC 2047 encoded words; any charset label decodes
// best-effort instead of failing.
func newWordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: func(cs string, in io.Reader) (io.Reader, error) {
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		s, _ := decodeCharset(cs, b)
		return strings.NewReader(s), nil
	}}
}

// decodeHeaderText turns a raw header value into clean UTF-8 text: raw 8-bit
// bytes are read as UTF-8 or windows-1252, RFC 2047 words are decoded, and
// line breaks and control characters become spaces.
func decodeHeaderText(raw string) string {
	if !utf8.ValidString(raw) {
		raw = utf8OrWindows1252([]byte(raw))
	}
	dec, err := newWordDecoder().DecodeHeader(raw)
	if err != nil {
		dec = raw
	}
	return oneLine(dec)
}

// oneLine makes s valid single-line text: white space and control
// characters collapse into single spaces.
func oneLine(s string) string {
	s = fixC1(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fixC1 replaces C1 control characters, which legacy mail produces when
// windows-1252 text is labelled ISO-8859-1, with what windows-1252 meant.
func fixC1(s string) string {
	if !strings.ContainsFunc(s, isC1) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if !isC1(r) {
			return r
		}
		if d := charmap.Windows1252.DecodeByte(byte(r)); d != utf8.RuneError && !isC1(d) {
			return d
		}
		return -1
	}, s)
}

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// quote renders s for a problem description: quoted, at most 60 bytes.
func quote(s string) string {
	return `"` + strings.ToValidUTF8(message.Clip(s, 60), "?") + `"`
}
