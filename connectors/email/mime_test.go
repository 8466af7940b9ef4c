package email

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestSplitHeader(t *testing.T) {
	tests := []struct {
		name, raw     string
		subject, body string
		malformed     bool
	}{
		{"plain", "Subject: a\nX: b\n\nbody", "a", "body", false},
		{"folded", "Subject: pitkä\n  otsikko\n\nbody", "pitkä otsikko", "body", false},
		{"mbox from line", "From someone@example.fi Mon Feb  3 10:00:00 2014\nSubject: a\n\nbody", "a", "body", false},
		{"bad line ends the header", "Subject: a\nthis is not a header\nX: b\n\nbody", "a", "this is not a header\r\nX: b\r\n\r\nbody", true},
		{"continuation first", " leading\nSubject: a\n\nb", "a", "b", true},
		{"no body", "Subject: a\n", "a", "", false},
		{"no header", "\nbody only", "", "body only", false},
		{"space before colon", "Subject : a\n\nb", "a", "b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, body, malformed := splitHeader(crlf(tt.raw))
			if got := h.Get("Subject"); got != tt.subject {
				t.Errorf("subject = %q, want %q", got, tt.subject)
			}
			if string(body) != string(crlf(tt.body)) && string(body) != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
			if malformed != tt.malformed {
				t.Errorf("malformed = %v, want %v", malformed, tt.malformed)
			}
		})
	}
}

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name, body, boundary string
		parts                []string
		closed, found        bool
	}{
		{"two parts", "preamble\n--b\nA: 1\n\none\n--b\n\ntwo\n--b--\nepilogue", "b", []string{"A: 1\r\n\r\none", "\r\ntwo"}, true, true},
		{"trailing space on delimiter", "--b \none\n--b-- \n", "b", []string{"one"}, true, true},
		{"longer line is not a delimiter", "--b\none\n--bb\nstill one\n--b--", "b", []string{"one\r\n--bb\r\nstill one"}, true, true},
		{"not closed", "--b\none\n--b\ntwo cut sh", "b", []string{"one", "two cut sh"}, false, true},
		{"no delimiter", "just text", "b", nil, false, false},
		{"no boundary", "--\nx", "", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, closed, found := splitMultipart(crlf(tt.body), tt.boundary)
			if closed != tt.closed || found != tt.found || len(parts) != len(tt.parts) {
				t.Fatalf("got %d parts %q closed %v found %v; want %q %v %v", len(parts), parts, closed, found, tt.parts, tt.closed, tt.found)
			}
			for i := range parts {
				if string(parts[i]) != tt.parts[i] {
					t.Errorf("part %d = %q, want %q", i, parts[i], tt.parts[i])
				}
			}
		})
	}
}

func TestBodySelection(t *testing.T) {
	alt := func(parts ...string) string {
		return "Content-Type: multipart/alternative; boundary=alt\n\n--alt\n" + strings.Join(parts, "\n--alt\n") + "\n--alt--\n"
	}
	const plain = "Content-Type: text/plain; charset=utf-8\n\ntavallinen teksti"
	const html = "Content-Type: text/html; charset=utf-8\n\n<p>HTML-<b>teksti</b> joka on paljon pidempi kuin tynkä ja kertoo kaiken oleellisen asiasta</p>"
	tests := []struct {
		name, raw, want string
		fromHTML        bool
		attachments     int
	}{
		{"alternative prefers plain", alt(plain, html), "tavallinen teksti", false, 0},
		{"alternative html first still prefers plain", alt(html, plain), "tavallinen teksti", false, 0},
		{"alternative html only", alt(html), "HTML-teksti joka on paljon pidempi kuin tynkä ja kertoo kaiken oleellisen asiasta", true, 0},
		{"plain stub for an html mail", alt("Content-Type: text/plain\n\nThis message is in HTML format.", html), "HTML-teksti joka on paljon pidempi kuin tynkä ja kertoo kaiken oleellisen asiasta", true, 0},
		{"empty plain falls back to html", alt("Content-Type: text/plain\n\n", html), "HTML-teksti joka on paljon pidempi kuin tynkä ja kertoo kaiken oleellisen asiasta", true, 0},
		{
			"mixed joins inline texts", "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nosa 1\n--m\nContent-Type: text/html\n\n<p>osa 2</p>\n--m--",
			"osa 1\n\nosa 2", false, 0,
		},
		{
			"text attachment is not body", "Content-Type: multipart/mixed; boundary=m\n\n--m\n\nviesti\n--m\nContent-Type: text/plain; name=loki.txt\nContent-Disposition: attachment; filename=loki.txt\n\nERROR 42\n--m--",
			"viesti", false, 1,
		},
		{
			"calendar is an attachment", "Content-Type: multipart/mixed; boundary=m\n\n--m\n\nkutsu\n--m\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\n--m--",
			"kutsu", false, 1,
		},
		{
			"forwarded mail is an attachment named by its subject", "Content-Type: multipart/mixed; boundary=m\n\n--m\n\nkatso alla\n--m\nContent-Type: message/rfc822\n\nSubject: =?utf-8?Q?Alkuper=C3=A4inen?=\n\nvanha\n--m--",
			"katso alla", false, 1,
		},
		{
			"digest parts default to message/rfc822", "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: yksi\n\nx\n--d\n\nSubject: kaksi\n\ny\n--d--",
			"", false, 2,
		},
		{
			"signed mail reads the signed part", "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\n\n--s\nContent-Type: text/plain\n\nallekirjoitettu\n--s\nContent-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\n--s--",
			"allekirjoitettu", false, 1,
		},
		{"missing content type is text/plain", "\n\npelkkä teksti", "pelkkä teksti", false, 0},
		{"bad content type read as text", "Content-Type: text\n\nteksti", "teksti", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parseMail(crlf(tt.raw), false, readPolicy{})
			if m.Body != tt.want || m.BodyFromHTML != tt.fromHTML || len(m.Attachments) != tt.attachments {
				t.Fatalf("body %q (html %v, %d attachments %+v), want %q (html %v, %d attachments)",
					m.Body, m.BodyFromHTML, len(m.Attachments), m.Attachments, tt.want, tt.fromHTML, tt.attachments)
			}
			if tt.name == "forwarded mail is an attachment named by its subject" && m.Attachments[0].Name != "Alkuperäinen.eml" {
				t.Errorf("attachment name = %q", m.Attachments[0].Name)
			}
		})
	}
}

func TestMIMELimits(t *testing.T) {
	t.Run("depth", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < maxDepth+10; i++ {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("\r\nsyvällä")
		m := parseMail([]byte(b.String()), false, readPolicy{})
		if !strings.Contains(strings.Join(m.Problems, ";"), "nested deeper") {
			t.Fatalf("problems = %q", m.Problems)
		}
	})
	t.Run("parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
		for i := 0; i < maxParts+50; i++ {
			fmt.Fprintf(&b, "--b\r\nContent-Type: image/gif\r\n\r\nGIF%d\r\n", i)
		}
		b.WriteString("--b--\r\n")
		m := parseMail([]byte(b.String()), false, readPolicy{})
		if len(m.Attachments) >= maxParts || !strings.Contains(strings.Join(m.Problems, ";"), "more than") {
			t.Fatalf("%d attachments, problems %q", len(m.Attachments), m.Problems)
		}
	})
}

func TestThreadOf(t *testing.T) {
	tests := []struct {
		name, headers, thread, parent string
	}{
		{"new mail is its own thread", "Message-ID: <self@x>", "self@x", ""},
		{"references root wins", "Message-ID: <self@x>\nIn-Reply-To: <p@x>\nReferences: <root@x> <mid@x> <p@x>", "root@x", "p@x"},
		{"in-reply-to only", "Message-ID: <self@x>\nIn-Reply-To: <p@x>", "p@x", "p@x"},
		{"references only", "Message-ID: <self@x>\nReferences: <root@x>\n <p@x>", "root@x", "p@x"},
		{"in-reply-to with comment", "Message-ID: <self@x>\nIn-Reply-To: <p@x> (Matti's message of Mon)", "p@x", "p@x"},
		{"bare ids", "Message-ID: self@x\nIn-Reply-To: p@x", "p@x", "p@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parseMail(crlf(tt.headers+"\n\nteksti"), false, readPolicy{})
			thread, parent := threadOf(m, m.sourceID())
			if thread != tt.thread || parent != tt.parent {
				t.Fatalf("thread %q parent %q, want %q %q", thread, parent, tt.thread, tt.parent)
			}
		})
	}
}

func TestSourceID(t *testing.T) {
	long := strings.Repeat("a", 300) + "@x"
	tests := []struct{ name, id, want string }{
		{"plain", "<abc@example.fi>", "abc@example.fi"},
		{"spaces trimmed", "  <abc@example.fi>  ", "abc@example.fi"},
		{"non-ascii hashed", "<äö@example.fi>", "mid-"},
		{"too long hashed", "<" + long + ">", "mid-"},
	}
	for _, tt := range tests {
		got := idFromMessageID(tt.id)
		if tt.want == "mid-" {
			if !strings.HasPrefix(got, "mid-") || len(got) != 36 {
				t.Errorf("%s: id %q, want a mid- hash", tt.name, got)
			}
			if got != idFromMessageID(tt.id) {
				t.Errorf("%s: hash not stable", tt.name)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("%s: id %q, want %q", tt.name, got, tt.want)
		}
	}
	// Without a Message-ID the id is a content hash: the same mail read
	// again (even with other trace headers) gets the same id.
	a := parseMail(crlf("Received: by a\nFrom: x@y\nSubject: s\n\nbody"), false, readPolicy{})
	b := parseMail(crlf("Received: by b\nReceived: by c\nFrom: x@y\nSubject: s\n\nbody"), false, readPolicy{})
	c := parseMail(crlf("From: x@y\nSubject: s\n\nother body"), false, readPolicy{})
	if a.sourceID() != b.sourceID() || !strings.HasPrefix(a.sourceID(), "nomid-") {
		t.Errorf("ids %q %q should be equal nomid- hashes", a.sourceID(), b.sourceID())
	}
	if a.sourceID() == c.sourceID() {
		t.Error("different bodies got the same id")
	}
}

func TestEnvelopeLimitsAndFallbacks(t *testing.T) {
	arrived := time.Date(2014, 2, 3, 8, 0, 0, 0, time.UTC)
	o := origin{Account: "a", Mailbox: "INBOX", UID: 1, Arrived: arrived}

	t.Run("huge text is capped", func(t *testing.T) {
		body := strings.Repeat("pitkä rivi tekstiä ", 20000) + "\n\nOn Mon, 3 Feb 2014 a <a@x> wrote:\n" + strings.Repeat("> lainaus\n", 20000)
		env := parseMail(rawMail("", body), false, readPolicy{}).envelope(o, testNow)
		if len(env.Text) > maxText || len(env.Metadata["body_full"]) > maxBodyFull {
			t.Fatalf("text %d bytes, body_full %d bytes", len(env.Text), len(env.Metadata["body_full"]))
		}
		if !utf8.ValidString(env.Text) || !strings.HasSuffix(env.Text, "…") {
			t.Fatalf("text not cut cleanly: %q", env.Text[len(env.Text)-20:])
		}
		if env.Metadata["flags"] != flagTextTruncated {
			t.Fatalf("flags = %q", env.Metadata["flags"])
		}
		b, _ := json.Marshal(env)
		if len(b) > 900<<10 {
			t.Fatalf("envelope is %d bytes", len(b))
		}
	})
	t.Run("hostile mail still fits a JetStream message", func(t *testing.T) {
		// Text and body_full full of characters JSON escapes six-fold, and
		// hundreds of attachments with long names: the envelope must stay
		// below NATS's default max_payload of 1 MiB, or its publish fails
		// on every retry and blocks the mailbox behind it.
		var b strings.Builder
		b.WriteString("--zz\nContent-Type: text/plain\n\n" + strings.Repeat("<&>", 20000) +
			"\nOn Mon, 3 Feb 2014 a@b wrote:\n" + strings.Repeat("<&>\n", 40000) + "\n")
		for i := range 495 {
			fmt.Fprintf(&b, "--zz\nContent-Type: application/octet-stream; name=\"%s%d\"\n\nx\n", strings.Repeat("<", 190), i)
		}
		b.WriteString("--zz--\n")
		env := parseMail(rawMail("Content-Type: multipart/mixed; boundary=zz", b.String()), false, readPolicy{}).envelope(o, testNow)
		j, _ := json.Marshal(env)
		if len(j) > 1<<20 {
			t.Fatalf("envelope is %d bytes of JSON, more than 1 MiB", len(j))
		}
		var listed []attachment
		if err := json.Unmarshal([]byte(env.Metadata["attachments"]), &listed); err != nil || len(listed) == 0 || len(listed) >= 495 {
			t.Fatalf("attachments metadata lists %d (%v), want a valid shortened list", len(listed), err)
		}
		if env.Metadata["attachment_count"] != "495" || !strings.Contains(env.Metadata["flags"], flagTextTruncated) {
			t.Fatalf("attachment_count %q, flags %q", env.Metadata["attachment_count"], env.Metadata["flags"])
		}
	})
	t.Run("empty mail gets a placeholder", func(t *testing.T) {
		env := parseMail(rawMail("", ""), false, readPolicy{}).envelope(o, testNow)
		if env.Text != "(no text)" || env.Validate() != nil {
			t.Fatalf("text %q, validate %v", env.Text, env.Validate())
		}
	})
	t.Run("attachment-only mail names its attachments", func(t *testing.T) {
		raw := rawMail("Content-Type: multipart/mixed; boundary=m", "--m\nContent-Type: application/pdf; name=lasku.pdf\nContent-Transfer-Encoding: base64\n\nJVBERg==\n--m--\n")
		env := parseMail(raw, false, readPolicy{}).envelope(o, testNow)
		if env.Text != "(no text; attachments: lasku.pdf)" {
			t.Fatalf("text %q", env.Text)
		}
	})
	t.Run("missing date uses arrival", func(t *testing.T) {
		raw := crlf("From: a@x\nMessage-ID: <d1@x>\n\nteksti")
		env := parseMail(raw, false, readPolicy{}).envelope(o, testNow)
		if !env.CreatedAt.Equal(arrived) {
			t.Fatalf("created %v, want %v", env.CreatedAt, arrived)
		}
	})
	t.Run("date in the far future uses arrival", func(t *testing.T) {
		raw := crlf("From: a@x\nMessage-ID: <d2@x>\nDate: Mon, 1 Jan 2999 00:00:00 +0000\n\nteksti")
		env := parseMail(raw, false, readPolicy{}).envelope(o, testNow)
		if !env.CreatedAt.Equal(arrived) || env.Metadata["date_header"] == "" {
			t.Fatalf("created %v, metadata %v", env.CreatedAt, env.Metadata)
		}
	})
	t.Run("reply-to differing from from is kept", func(t *testing.T) {
		env := parseMail(rawMail("Reply-To: Oikea <oikea@example.fi>", "x"), false, readPolicy{}).envelope(o, testNow)
		if env.Metadata["reply_to"] != "Oikea <oikea@example.fi>" {
			t.Fatalf("reply_to = %q", env.Metadata["reply_to"])
		}
	})
}

func TestTruncatedMail(t *testing.T) {
	att := strings.Repeat("QUJDREVGR0g=\r\n", 5000)
	raw := crlf("From: Asiakas <a@example.fi>\nMessage-ID: <big@example.fi>\nSubject: Iso liite\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\nKatso liite.\n--m\nContent-Type: application/zip; name=iso.zip\nContent-Transfer-Encoding: base64\n\n" + att + "\n--m--\n")
	cut := raw[:len(raw)/2]
	m := parseMail(cut, true, readPolicy{})
	env := m.envelope(origin{Account: "a", Mailbox: "INBOX", Size: int64(len(raw))}, testNow)
	if env.Metadata["flags"] != flagTruncated {
		t.Fatalf("flags = %q (problems %q)", env.Metadata["flags"], env.Metadata["problems"])
	}
	if env.Subject != "Iso liite" || env.Text != "Katso liite." || env.SourceID != "big@example.fi" {
		t.Fatalf("envelope %+v", env)
	}
	if env.Metadata["attachment_count"] != "1" {
		t.Fatalf("attachments %q", env.Metadata["attachments"])
	}
	// The same cut mail read without knowing it was cut is malformed.
	if m := parseMail(cut, false, readPolicy{}); len(m.Problems) == 0 {
		t.Fatal("an unclosed multipart is not reported")
	}
}
