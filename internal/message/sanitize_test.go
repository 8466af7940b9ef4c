package message

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	in := Envelope{
		Version: 1, ID: "web:form\x00-1", Channel: "web", Kind: KindWeb, SourceID: "form\x00-1",
		ThreadID: "t\u202e1", ParentID: "p\n1", URL: "javascript:alert(1)",
		Author:  Author{Name: "Maija\x1b[31m Meikäläinen", Handle: "mai\u2066ja", Email: "m@example.fi\r\nBcc: x@y"},
		Subject: "Lasku\ninvoice\x07", Lang: "fi",
		Text: "Hei,\n\tlaskussa on virhe\x1b[2J.\r\nTerveisin\u202e Maija\u2069\x00 \xff",
		Metadata: map[string]string{
			"page_id":         "104\x1b]0;title\x07",
			"attachment_name": "../../etc/passwd\u202etxt.exe",
			"attachment_url":  "data:text/html,<script>x</script>",
			"sticker_url":     "https://scontent.example.com/s.png",
			"body_full":       "line 1\nline 2\x1b[0m",
			"attachments":     `[{"name":"..\\..\\boot.ini","type":"text/plain","size":12},{"name":"ok.pdf","size":3}]`,
			"bad\nkey":        "v",
		},
	}
	e := in
	e.Metadata = map[string]string{}
	for k, v := range in.Metadata {
		e.Metadata[k] = v
	}
	e.Sanitize()
	want := Envelope{
		Version: 1, ID: "web:form-1", Channel: "web", Kind: KindWeb, SourceID: "form-1",
		ThreadID: "t1", ParentID: "p 1", URL: "",
		Author:  Author{Name: "Maija[31m Meikäläinen", Handle: "maija", Email: "m@example.fi  Bcc: x@y"},
		Subject: "Lasku invoice", Lang: "fi",
		Text: "Hei,\n\tlaskussa on virhe[2J.\r\nTerveisin Maija \uFFFD",
		Metadata: map[string]string{
			"page_id":         "104]0;title",
			"attachment_name": "passwdtxt.exe",
			"sticker_url":     "https://scontent.example.com/s.png",
			"body_full":       "line 1\nline 2[0m",
			"attachments":     `[{"name":"boot.ini","size":12,"type":"text/plain"},{"name":"ok.pdf","size":3}]`,
			"bad key":         "v",
		},
	}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("sanitized\n%#v\nwant\n%#v", e, want)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	// Already clean envelopes are left alone, attachments list included.
	clean := want
	clean.Metadata["attachments"] = `[{"name":"a.pdf","type":"application/pdf","size":1}]`
	before := clean.Metadata["attachments"]
	clean.Sanitize()
	if clean.Metadata["attachments"] != before || clean.Text != want.Text {
		t.Fatalf("a clean envelope changed: %q", clean.Metadata["attachments"])
	}
	// An id the envelope did not derive from its source id stays its own.
	odd := Envelope{ID: "custom\x00id", Channel: "web", SourceID: "x"}
	odd.Sanitize()
	if odd.ID != "customid" {
		t.Fatalf("id %q", odd.ID)
	}
}

func TestWebURLAndDisplayName(t *testing.T) {
	for raw, want := range map[string]string{
		"https://x.com/a/status/1":          "https://x.com/a/status/1",
		"HTTP://example.com":                "HTTP://example.com",
		"javascript:alert(1)":               "",
		"JaVaScRiPt:alert(1)":               "",
		"data:text/html,x":                  "",
		"//evil.example/x":                  "",
		"/relative":                         "",
		"https://example.com/\x00":          "",
		"https://exa mple.com/":             "",
		"https://example.com/\u202egnp.exe": "",
		"":                                  "",
	} {
		if got := WebURL(raw); got != want {
			t.Errorf("WebURL(%q) = %q, want %q", raw, got, want)
		}
	}
	for name, want := range map[string]string{
		"report.pdf":         "report.pdf",
		"../../etc/passwd":   "passwd",
		`C:\Users\a\x.docx`:  "x.docx",
		"..":                 "attachment",
		"dir/":               "attachment",
		"  ":                 "attachment",
		".bashrc":            ".bashrc",
		"a\u202egnp.exe":     "agnp.exe",
		"kuva\n2026.jpg":     "kuva 2026.jpg",
		"\x00\x1b":           "attachment",
		"Lasku 11/2026.pdf":  "2026.pdf",
		"Yhteenveto (1).txt": "Yhteenveto (1).txt",
	} {
		if got := DisplayName(name); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", name, got, want)
		}
	}
}

// oneLineOK reports whether s is valid UTF-8 without control characters,
// line breaks or bidirectional formatting.
func oneLineOK(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || formatting(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

func textOK(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r') || formatting(r) {
			return false
		}
	}
	return true
}

// FuzzSanitize: whatever comes in, every one-line field comes out one line,
// the text keeps no control characters but line breaks and tabs, URLs are
// http(s) or gone, attachment names have no directories, the id still
// follows the source id, and sanitizing again changes nothing.
func FuzzSanitize(f *testing.F) {
	f.Add("form-1", "Maija\x1b[31m", "hei\n\x1b[2J\u202e", "javascript:x", "../a\u202e", `[{"name":"../../x"}]`, "meta\x00")
	f.Add("\xff\xfe", "\u2028", "\r\n\t", "https://example.com", "..", "[1,2]", "\u0085")
	f.Fuzz(func(t *testing.T, id, name, text, link, attachment, attachments, meta string) {
		e := Envelope{
			Version: 1, ID: MakeID("web", id), Channel: "web", Kind: KindWeb, SourceID: id, ThreadID: meta, URL: link,
			Author: Author{Name: name}, Subject: meta, Text: text,
			Metadata: map[string]string{"attachment_name": attachment, "attachments": attachments, meta: meta, "image_url": link, "body_full": text},
		}
		e.Sanitize()
		for _, s := range []string{e.ID, e.SourceID, e.ThreadID, e.Author.Name, e.Subject, e.Metadata["attachment_name"], e.Metadata["attachments"]} {
			if !oneLineOK(s) {
				t.Fatalf("not one line: %q", s)
			}
		}
		for k, v := range e.Metadata {
			if !oneLineOK(k) || (!IsMultiLineMetadata(k) && !oneLineOK(v)) || !textOK(v) {
				t.Fatalf("metadata %q: %q", k, v)
			}
		}
		if !textOK(e.Text) {
			t.Fatalf("text %q", e.Text)
		}
		if e.ID != MakeID(e.Channel, e.SourceID) {
			t.Fatalf("id %q, source id %q", e.ID, e.SourceID)
		}
		if e.URL != "" && !strings.HasPrefix(strings.ToLower(e.URL), "http") {
			t.Fatalf("url %q", e.URL)
		}
		if n := e.Metadata["attachment_name"]; strings.ContainsAny(n, `/\`) || n == ".." {
			t.Fatalf("attachment name %q", n)
		}
		var list []map[string]any
		if json.Unmarshal([]byte(e.Metadata["attachments"]), &list) == nil {
			for _, a := range list {
				if n, ok := a["name"].(string); ok && (strings.ContainsAny(n, `/\`) || !oneLineOK(n)) {
					t.Fatalf("attachments name %q", n)
				}
			}
		}
		again := e
		again.Metadata = map[string]string{}
		for k, v := range e.Metadata {
			again.Metadata[k] = v
		}
		again.Sanitize()
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("sanitizing twice changed\n%#v\nto\n%#v", e, again)
		}
	})
}
