package email

import (
	"encoding/base64"
	"runtime"
	"strings"
	"testing"
)

// worstHTML are HTML bodies of about size bytes built to make HTML to text
// as expensive as possible (issue 17): deep blockquote nesting with short
// paragraphs (every line gets the longest quote prefix), huge attributes
// (long tags to scan), many tiny elements with text (a tag per character)
// and without (the whole body is scanned, no text ever fills the cap).
func worstHTML(size int) map[string]string {
	fill := func(head, unit string) string {
		var b strings.Builder
		b.Grow(size + len(unit))
		b.WriteString(head)
		for b.Len() < size {
			b.WriteString(unit)
		}
		return b.String()
	}
	return map[string]string{
		"deep-nesting":        fill(strings.Repeat("<blockquote>", 20), "<p>ok</p>"),
		"huge-attributes":     fill("", `<div title="`+strings.Repeat("x", 1<<20)+`">a</div>`),
		"many-tiny-elements":  fill("", "<b>a</b>"),
		"many-empty-elements": fill("", "<b></b>"),
	}
}

// nestedMail is the mail of issue 17: size bytes of 20 nested blockquotes
// with repeated short paragraphs, as 8-bit UTF-8 or, with b64, base64
// windows-1252 (the most decoding work per byte).
func nestedMail(size int, b64 bool) []byte {
	body := worstHTML(size)["deep-nesting"]
	head := "From: Matti <matti@example.fi>\r\nSubject: Sisäkkäin\r\nMessage-ID: <nested@example.fi>\r\n"
	if !b64 {
		return []byte(head + "Content-Type: text/html; charset=utf-8\r\n\r\n" + body)
	}
	body = strings.ReplaceAll(body, "ok", "\xe4\xf6") // "äö" in windows-1252
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	return []byte(head + "Content-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: base64\r\n\r\n" + enc)
}

// BenchmarkHTMLToText converts the worst-case bodies of 10 MiB with the
// default cap.
func BenchmarkHTMLToText(b *testing.B) {
	for name, html := range worstHTML(10 << 20) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(html)))
			b.ReportAllocs()
			for b.Loop() {
				htmlToText(html, newTextSink(defaultMaxText))
			}
		})
	}
}

// BenchmarkParseNestedMail reads the 10 MiB mail of issue 17 into its
// envelope.
func BenchmarkParseNestedMail(b *testing.B) {
	for _, tt := range []struct {
		name string
		b64  bool
	}{{"8bit-utf8", false}, {"base64-windows1252", true}} {
		raw := nestedMail(10<<20, tt.b64)
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				parseMail(raw, false, readPolicy{}).envelope(origin{Account: "bench", Mailbox: "INBOX"}, testNow)
			}
		})
	}
}

// allocatedBy returns the bytes f allocates on the heap (the least of three
// runs, so that a stray allocation elsewhere in the process does not count).
func allocatedBy(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestNestedMailMemoryBound is issue 17: a 10 MiB mail of nested
// blockquotes once made a 115 MB body and 988 MB of allocations. Now its
// text stops at the cap while it is made, it is ingested flagged
// text_truncated, and reading it allocates about one copy of the mail
// (the decoded HTML) plus the capped text.
func TestNestedMailMemoryBound(t *testing.T) {
	const size = 10 << 20
	tests := []struct {
		name string
		b64  bool
		// bound on the bytes allocated, in copies of the raw mail (plus 1 MiB)
		copies float64
	}{
		{"8bit-utf8", false, 1.25},
		// The base64 decoded (3/4 of the mail), then decoded again into
		// a UTF-8 string (a fifth bigger: two bytes for every "ä").
		{"base64-windows1252", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := nestedMail(size, tt.b64)
			var m *parsedMail
			var text, full, flags string
			alloc := allocatedBy(func() {
				m = parseMail(raw, false, readPolicy{})
				env := m.envelope(origin{Account: "a", Mailbox: "INBOX", UID: 1, UIDValidity: 1}, testNow)
				text, full, flags = env.Text, env.Metadata["body_full"], env.Metadata["flags"]
			})
			if len(m.Body) > defaultMaxText || len(text) > maxText || len(full) > maxBodyFull {
				t.Errorf("body %d, text %d, body_full %d bytes: over the caps", len(m.Body), len(text), len(full))
			}
			// All of it is quoted, so the text is the whole (capped) body.
			if !strings.Contains(flags, flagTextTruncated) || !strings.HasPrefix(text, strings.Repeat(">", maxQuoteDepth)+" ") {
				t.Errorf("flags %q, text starts %q", flags, text[:min(len(text), 40)])
			}
			if bound := uint64(tt.copies*float64(len(raw))) + 1<<20; alloc > bound {
				t.Errorf("reading a %d-byte mail allocated %d bytes, bound %d", len(raw), alloc, bound)
			}
			t.Logf("allocated %.1f MiB for a %.1f MiB mail", float64(alloc)/(1<<20), float64(len(raw))/(1<<20))
		})
	}
}
