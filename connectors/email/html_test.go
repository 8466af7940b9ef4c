package email

import (
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraphs and breaks", "<p>Hei,</p><p>rivi 1<br>rivi 2</p>", "Hei,\n\nrivi 1\nrivi 2"},
		{"white space collapses", "<div>  paljon\n\n   tilaa  </div>", "paljon tilaa"},
		{"entities", "<p>&auml;&ouml; &amp; &lt;tag&gt; &#8364; &nbsp;x</p>", "äö & <tag> € x"},
		{"head, style and script dropped", "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script><p>näkyy</p></body></html>", "näkyy"},
		{"unclosed head ends at body", "<head><meta charset=utf-8><body><p>teksti</p>", "teksti"},
		{"comments dropped", "a<!-- piilossa -->b", "ab"},
		{"list items", "<ul><li>yksi</li><li>kaksi</li></ul>", "- yksi\n- kaksi"},
		{"table cells", "<table><tr><td>Tuote</td><td>Hinta</td></tr><tr><td>Sohva</td><td>499 €</td></tr></table>", "Tuote Hinta\nSohva 499 €"},
		{"blockquote is quoted", "<p>Uusi</p><blockquote><p>Vanha 1</p><p>Vanha 2</p></blockquote>", "Uusi\n\n> Vanha 1\n>\n> Vanha 2"},
		{"nested blockquote", "<blockquote>a<blockquote>b</blockquote></blockquote>", "> a\n>> b"},
		{"gmail signature gets a delimiter", `<div>Terveisin</div><div class="gmail_signature">Matti<br>Yritys</div>`, "Terveisin\n--\nMatti\nYritys"},
		{"pre keeps lines", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"lone less-than", "<p>3 < 4 and 5 <= 6</p>", "3 < 4 and 5 <= 6"},
		{"attribute with >", `<a title="x>y" href="u">linkki</a>`, "linkki"},
		{"unterminated tag", "teksti <a href=", "teksti"},
		{"unterminated comment", "teksti <!-- loppu", "teksti"},
		{"uppercase tags", "<P>Iso</P><BR>teksti", "Iso\n\nteksti"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlText(tt.in, 1<<20); got != tt.want {
				t.Fatalf("htmlToText(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
		})
	}
}

// htmlText converts s with a sink of limit bytes.
func htmlText(s string, limit int) string {
	out := newTextSink(limit)
	htmlToText(s, out)
	return out.String()
}

// TestHTMLToTextCap: whatever the HTML, the text stops at the cap while it
// is made, and what was made before the cut is right.
func TestHTMLToTextCap(t *testing.T) {
	deep := strings.Repeat(">", maxQuoteDepth)
	tests := []struct {
		name   string
		html   string
		limit  int
		prefix string
		full   bool
	}{
		{"deep nesting", strings.Repeat("<blockquote>", 30) + strings.Repeat("<p>ok</p>", 1<<16), 4 << 10, deep + " ok\n" + deep + "\n" + deep + " ok", true},
		{"huge attribute", `<div title="` + strings.Repeat("x", 1<<20) + `">sisältö</div>`, 100, "sisältö", false},
		{"many tiny elements", strings.Repeat("<b>a</b>", 1<<17), 1000, "aaaa", true},
		{"huge text run with entities", strings.Repeat("sana &amp; ", 1<<17), 1000, "sana & sana & ", true},
		{"entity on a chunk boundary", strings.Repeat("x", textChunk-3) + "&auml;y", 1 << 20, strings.Repeat("x", textChunk-3) + "äy", false},
		{"unterminated tag after the cap", strings.Repeat("<p>teksti</p>", 1000) + "<a href='", 100, "teksti\n\nteksti", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := newTextSink(tt.limit)
			htmlToText(tt.html, out)
			got := out.String()
			if len(got) > tt.limit || !strings.HasPrefix(got, tt.prefix) || out.full() != tt.full {
				t.Fatalf("got %d bytes (full %v) starting %q, want at most %d starting %q (full %v)",
					len(got), out.full(), got[:min(len(got), 80)], tt.limit, tt.prefix, tt.full)
			}
		})
	}
}
