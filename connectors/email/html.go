package email

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// htmlToText turns an HTML mail body into readable plain text written to
// out: scripts, styles and the head are dropped, blocks and <br> become line
// breaks, list items get "- ", <blockquote> lines get "> " (so quoted
// replies can be told apart), a Gmail or Outlook signature block gets the
// "-- " delimiter, and entities are decoded. It is a forgiving scanner,
// never an error, and it stops reading as soon as out is full: a mail that
// would make a hundred megabytes of text costs no more than out's limit.
func htmlToText(s string, out *textSink) {
	w := &textWriter{out: out, atStart: true}
	skip := "" // the element whose content is being skipped
	for i := 0; i < len(s) && !out.full(); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			if skip == "" {
				w.textRun(s[i : i+j])
			}
			i += j
			continue
		}
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return
			}
			i += 4 + end + 3
			continue
		case len(rest) > 1 && (rest[1] == '!' || rest[1] == '?'):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return
			}
			i += end + 1
			continue
		case len(rest) < 2 || !(isASCIILetter(rest[1]) || rest[1] == '/' && len(rest) > 2 && isASCIILetter(rest[2])):
			// A lone '<' in text ("a < b").
			if skip == "" {
				w.text("<")
			}
			i++
			continue
		}
		end := tagEnd(s, i)
		if end < 0 {
			return
		}
		tag := s[i+1 : end]
		i = end + 1
		closing := strings.HasPrefix(tag, "/")
		name, attrs := tagName(strings.TrimPrefix(tag, "/"))
		selfClosing := strings.HasSuffix(tag, "/")
		if skip != "" {
			// A <head> left open ends where the body starts.
			if closing && name == skip || skip == "head" && name == "body" {
				skip = ""
			}
			continue
		}
		switch name {
		case "script", "style", "head", "title", "template", "noscript", "xml", "svg", "object":
			if !closing && !selfClosing {
				skip = name
			}
		case "br":
			w.lineBreak()
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre":
			w.paragraph()
			if name == "pre" {
				if closing {
					w.pre = max(0, w.pre-1)
				} else {
					w.pre++
				}
			}
		case "div", "tr", "section", "article", "header", "footer", "nav", "aside",
			"address", "dt", "dd", "center", "form", "fieldset", "hr", "figure", "main":
			w.block()
			if !closing && name == "div" && isSignatureBlock(attrs) {
				w.raw("-- ")
				w.block()
			}
		case "li":
			w.block()
			if !closing {
				w.raw("- ")
			}
		case "td", "th":
			if !closing {
				w.space()
			}
		case "blockquote":
			w.block()
			if closing {
				w.depth = max(0, w.depth-1)
			} else if w.depth < maxQuoteDepth {
				w.depth++
			}
		}
	}
}

// isSignatureBlock reports whether a <div>'s attributes mark a signature
// (Gmail's gmail_signature class, Outlook's id="Signature").
func isSignatureBlock(attrs string) bool {
	a := strings.ToLower(attrs)
	return strings.Contains(a, "gmail_signature") || strings.Contains(a, `id="signature"`) || strings.Contains(a, "id=signature")
}

// tagEnd finds the '>' closing the tag that starts at i, skipping quoted
// attribute values; -1 when there is none.
func tagEnd(s string, i int) int {
	var q byte
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			return j
		}
	}
	// An unterminated quote: fall back to the first '>'.
	if k := strings.IndexByte(s[i:], '>'); k >= 0 {
		return i + k
	}
	return -1
}

// tagName splits "div class=x" into "div" and the attribute text.
func tagName(tag string) (string, string) {
	n := 0
	for n < len(tag) && (isASCIILetter(tag[n]) || tag[n] >= '0' && tag[n] <= '9' || tag[n] == ':' || tag[n] == '-') {
		n++
	}
	return strings.ToLower(tag[:n]), tag[n:]
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// maxQuoteDepth is the deepest blockquote nesting shown with its own '>';
// deeper quotes are shown at this depth.
const maxQuoteDepth = 20

// quoteMarks holds the '>' of every quote depth (maxQuoteDepth of them);
// a line's prefix is a slice of it, so writing one costs no allocation.
const quoteMarks = ">>>>>>>>>>>>>>>>>>>>"

// Reading text between tags: at most textChunk bytes are unescaped at a
// time, cut before an '&' within maxEntityLen of the chunk's end so that
// no entity is split.
const (
	textChunk    = 4 << 10
	maxEntityLen = 40
)

// textWriter applies HTML whitespace rules on the way to a textSink: runs
// of white space collapse (except inside <pre>), line breaks are requested
// and emitted lazily, and lines inside blockquotes get "> " prefixes.
type textWriter struct {
	out          *textSink
	depth        int // blockquote nesting
	lastDepth    int // blockquote nesting of the last text written
	pre          int // <pre> nesting
	breaks       int // line breaks waiting to be written before the next text
	spacePending bool
	atStart      bool // at the start of a line
}

func (w *textWriter) lineBreak() { w.breaks++ }

func (w *textWriter) block() {
	if w.breaks < 1 {
		w.breaks = 1
	}
}

func (w *textWriter) paragraph() {
	if w.breaks < 2 {
		w.breaks = 2
	}
}

func (w *textWriter) space() { w.spacePending = true }

// raw writes s as is (after pending breaks), as for a list marker.
func (w *textWriter) raw(s string) {
	w.flush()
	w.out.WriteString(s)
	w.atStart = false
	w.spacePending = false
}

// flush writes pending line breaks and, at a line start, the quote prefix.
func (w *textWriter) flush() {
	if w.out.started && w.breaks > 0 {
		// At most one blank line; it is quoted only when it lies inside
		// the quote (between two quoted lines), not when entering or
		// leaving one.
		n := min(w.breaks, 2)
		blank := min(w.depth, w.lastDepth)
		for k := 0; k < n; k++ {
			if k > 0 && blank > 0 {
				w.out.WriteString(quoteMarks[:blank])
			}
			_ = w.out.WriteByte('\n')
		}
		w.atStart = true
		w.spacePending = false
	}
	w.breaks = 0
	if w.atStart && w.depth > 0 {
		w.out.WriteString(quoteMarks[:w.depth])
		_ = w.out.WriteByte(' ')
	}
	w.lastDepth = w.depth
}

// textRun writes the text between two tags, decoding entities, a chunk at
// a time so that a huge run never becomes one huge copy.
func (w *textWriter) textRun(run string) {
	for len(run) > 0 && !w.out.full() {
		n := len(run)
		if n > textChunk {
			n = textChunk
			if k := strings.LastIndexByte(run[n-maxEntityLen:n], '&'); k >= 0 {
				n += k - maxEntityLen
			}
		}
		piece := run[:n]
		if strings.IndexByte(piece, '&') >= 0 {
			piece = html.UnescapeString(piece)
		}
		w.text(piece)
		run = run[n:]
	}
}

func (w *textWriter) text(s string) {
	if w.pre > 0 {
		for first := true; ; first = false {
			line, rest, more := strings.Cut(s, "\n")
			if !first {
				w.lineBreak()
			}
			if line != "" {
				w.flush()
				w.out.WriteString(strings.TrimRight(line, "\r"))
				w.atStart = false
			}
			if !more {
				return
			}
			s = rest
		}
	}
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if unicode.IsSpace(r) {
			if !w.atStart || !w.out.started {
				w.spacePending = true
			}
			continue
		}
		if w.breaks > 0 || w.atStart {
			w.flush()
		} else if w.spacePending {
			_ = w.out.WriteByte(' ')
		}
		w.spacePending = false
		w.atStart = false
		w.out.WriteRune(r)
	}
}
