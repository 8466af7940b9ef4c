package email

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// FuzzParseMail feeds arbitrary bytes through the whole MIME → envelope
// path: it must never panic, and must always give a valid envelope that
// fits a JetStream message.
func FuzzParseMail(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b[:len(b)*2/3], true)
	}
	for _, s := range []string{
		"",
		"\r\n\r\n",
		"Subject: =?utf-8?B?w6Q=?=\r\n\r\n",
		"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
		"Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\n",
		"Content-Type: text/html; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n\r\n//5oAGUAaQA=",
		"Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\n> a \r\n>> b \r\nc",
		"From: <>\r\nReferences: <<<>>>\r\nIn-Reply-To: <a@b\r\n\r\n<blockquote><blockquote>x",
		"From: a@example.fi\r\nAuthentication-Results: mx.example.fi; dmarc=pass header.from=example.fi\r\n\r\nx",
		"Content-Type: text/html\r\n\r\n" + strings.Repeat("<blockquote>", 25) + strings.Repeat("<p>ok</p>", 600),
	} {
		f.Add([]byte(s), false)
	}
	filter := mailFilter{own: newOwnAddresses([]string{"own@example.fi", "@teams.example.fi"})}
	// A small cap, so that the fuzzer reaches it.
	policy := readPolicy{maxText: minMaxText, trusted: newAuthservIDs([]string{"mx.example.fi", NoAuthservID})}
	f.Fuzz(func(t *testing.T, raw []byte, truncated bool) {
		m := parseMail(raw, truncated, policy)
		if len(m.Body) > minMaxText {
			t.Fatalf("body is %d bytes, cap %d", len(m.Body), minMaxText)
		}
		filter.drop(m)
		env := m.envelope(origin{Account: "fuzz", Mailbox: "INBOX", UID: 1, UIDValidity: 1}, testNow)
		if err := env.Validate(); err != nil {
			t.Fatalf("invalid envelope: %v", err)
		}
		for what, s := range map[string]string{"text": env.Text, "subject": env.Subject, "thread": env.ThreadID, "author": env.Author.Name} {
			if !utf8.ValidString(s) {
				t.Fatalf("%s is not UTF-8: %q", what, s)
			}
		}
		if len(env.Text) > maxText+len("…") || strings.ContainsRune(env.Text, '\r') {
			t.Fatalf("text not normalized or too long (%d bytes)", len(env.Text))
		}
		b, err := json.Marshal(env)
		if err != nil {
			t.Fatalf("envelope does not marshal: %v", err)
		}
		if len(b) > 900<<10 {
			t.Fatalf("envelope is %d bytes", len(b))
		}
	})
}

// FuzzHTMLToText checks that any HTML turns into valid text without
// panicking.
func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{
		"<p>a</p>", "<blockquote><p>x<br>y</blockquote>", "<pre>a\n b</pre>", "<!-- x", "<a href='>'>t</a>",
		"<ul><li>a<li>b</ul>", "&amp;&#x1F600;&bogus;", "<head><title>x</title><body>y", "<div class=gmail_signature>s</div>",
	} {
		f.Add(s, uint16(1<<15))
		f.Add(s, uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, s string, limit uint16) {
		out := htmlText(s, int(limit))
		if !utf8.ValidString(out) {
			t.Fatalf("not UTF-8: %q", out)
		}
		if len(out) > int(limit) {
			t.Fatalf("%d bytes for a cap of %d", len(out), limit)
		}
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("more than one blank line in a row: %q", out)
		}
	})
}

// FuzzAuthResults reads arbitrary Authentication-Results values: never a
// panic, and only the registry's result values are ever recorded.
func FuzzAuthResults(f *testing.F) {
	for _, s := range authResultsSamples {
		f.Add(s)
	}
	for _, s := range []string{"", ";", "(", `"`, "a 2; spf=pass", "x; dkim=pass (unclosed", `x; dmarc="pass" header.from="a\"@b"`} {
		f.Add(s)
	}
	trusted := newAuthservIDs([]string{"mx.example.fi", "mx.google.com", NoAuthservID})
	valid := map[string]bool{"": true, "pass": true, "fail": true, "softfail": true, "neutral": true, "none": true, "temperror": true, "permerror": true, "policy": true}
	f.Fuzz(func(t *testing.T, v string) {
		ar, ok := parseAuthResults(v)
		if !ok && (ar.id != "" || len(ar.results) > 0) {
			t.Fatalf("rejected header with results: %+v", ar)
		}
		if len(ar.results) > maxAuthResults {
			t.Fatalf("%d results", len(ar.results))
		}
		var h textproto.Header
		h.Add("Authentication-Results", v)
		verdict := trusted.verdict(h)
		for _, r := range []string{verdict.SPF, verdict.DKIM, verdict.DMARC} {
			if !valid[r] {
				t.Fatalf("result %q recorded from %q", r, v)
			}
		}
	})
}

// FuzzSentResponse reads arbitrary bytes as the header of a mail in the
// Sent mailbox: never a panic, and a response is always valid, links the
// mail it answers by an envelope id, and is never dated before 1990 nor
// after the 48h the envelope's Date check allows.
func FuzzSentResponse(f *testing.F) {
	for _, s := range []string{
		"",
		"\r\n\r\n",
		"Message-ID: <r@yritys.fi>\r\nIn-Reply-To: <c@example.fi>\r\nReferences: <c@example.fi>\r\nDate: Mon, 3 Feb 2014 15:00:00 +0200\r\n\r\n",
		"In-Reply-To: <<<>>>\r\nReferences: <a> <b\r\n\r\nbody",
		"References: <a@b>\r\n <c@d>\r\nTo: x@teams.example.fi\r\nBcc: y@example.fi\r\n\r\n",
		"In-Reply-To: c@example.fi\r\nAuto-Submitted: auto-replied\r\nDate: Thu, 1 Jan 2099 00:00:00 +0000\r\n\r\n",
		"Message-ID: <\xff\xfe@x>\r\nIn-Reply-To: <\xe4@example.fi>\r\nFrom: =?utf-8?B?w6Q=?= <\xe4@y>\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	own := newOwnAddresses([]string{"own@example.fi", "@teams.example.fi"})
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := sentHeader(raw, readPolicy{})
		r, skip, _ := sentResponse(m, own, testNow, testNow)
		if r == nil {
			if skip == "" {
				t.Fatal("neither a response nor a reason")
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("invalid response: %v", err)
		}
		if !strings.HasPrefix(r.InReplyTo, "email:") || len(r.InReplyTo) == len("email:") || r.ThreadID == "" || r.ID != "email:"+r.SourceID {
			t.Fatalf("response ids %q %q %q %q", r.ID, r.SourceID, r.InReplyTo, r.ThreadID)
		}
		for _, s := range []string{r.ID, r.InReplyTo, r.ThreadID} {
			if !utf8.ValidString(s) || len(s) > len("email:")+maxIDLen {
				t.Fatalf("id %q is not short UTF-8", s)
			}
		}
		if r.At.Year() < 1990 || r.At.After(testNow.Add(48*time.Hour)) {
			t.Fatalf("response at %v", r.At)
		}
	})
}
