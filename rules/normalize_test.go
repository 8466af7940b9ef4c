package rules

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/cases"
)

func TestFoldText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"LASKU", "lasku"},
		{"Ärsyttää ÖISIN", "ärsyttää öisin"},
		{"a\u0308iti", "äiti"}, // decomposed ä composes and stays
		{"Café Crème", "cafe creme"},
		{"Ｌａｓｋｕ №５", "lasku no5"}, // fullwidth and compatibility forms
		{"STRASSE Straße", "strasse strasse"},
		{"Åland", "åland"},
		{"👍🏽 ok", "👍 ok"}, // skin tone dropped
		{"❤️", "❤"},       // variation selector dropped
		{"👨‍👩‍👧", "👨👩👧"},  // ZWJ dropped
		{"İstanbul", "istanbul"},
	}
	for _, tt := range tests {
		if got := FoldText(tt.in); got != tt.want {
			t.Errorf("FoldText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFoldWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"I was DOUBLE-charged!!", []string{"i", "was", "double", "charged"}},
		{"Paketti   ei\n\ttullut...", []string{"paketti", "ei", "tullut"}},
		{"kiitos👍🏽👍", []string{"kiitos", "👍", "👍"}},
		{"GDPR:n mukaan", []string{"gdpr", "n", "mukaan"}},
		{"tilaus #123456", []string{"tilaus", "123456"}},
		{"\xff\xfelasku\x00", []string{"lasku"}},
	}
	for _, tt := range tests {
		if got := foldWords(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("foldWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFoldCapsLongText(t *testing.T) {
	f := newFolder()
	f.add(strings.Repeat("lasku ", MaxMatchBytes), 1)
	if len(f.folded) > MaxMatchBytes {
		t.Fatalf("folded %d bytes, limit %d", len(f.folded), MaxMatchBytes)
	}
}

func TestStems(t *testing.T) {
	st := newStemmer()
	tests := []struct {
		lang int
		a, b string
		same bool
	}{
		{langFi, "lasku", "laskussani", true},
		{langFi, "lasku", "laskun", true},
		{langFi, "lasku", "laskuja", true},
		{langFi, "laskut", "läskut", false},
		{langFi, "paketti", "paketin", true},
		{langFi, "paketti", "paketista", true},
		{langFi, "toimitus", "toimituksen", true},
		{langFi, "toimitus", "toimitusta", true},
		{langFi, "hyvitys", "hyvityksen", true},
		{langEn, "refund", "refunded", true},
		{langEn, "refund", "refunds", true},
		{langEn, "charge", "charged", true},
		{langSv, "paket", "paketet", true},
		{langSv, "paket", "paketen", true},
		{langSv, "faktura", "fakturan", true},
		{langSv, "faktura", "fakturorna", true},
		{langSv, "leverans", "leveransen", true},
		{langSv, "återbetalning", "återbetalningen", true},
		{langSv, "paket", "pakt", false},
		{langSv, "intern", "inte", false}, // a function word keeps its form
	}
	for _, tt := range tests {
		a, b := st.stemString(tt.lang, tt.a), st.stemString(tt.lang, tt.b)
		if (a == b) != tt.same {
			t.Errorf("%s: stem(%q)=%q stem(%q)=%q, same=%v", stemLangName(tt.lang), tt.a, a, tt.b, b, tt.same)
		}
	}
	if got := st.stemString(langFi, "2024"); got != "2024" {
		t.Errorf("numbers are not stemmed: %q", got)
	}
}

func TestDetectLang(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"Hei, paketti ei ole vieläkään tullut. Mitä teen?", langFi},
		{"Laskussani on virhe, voitteko korjata sen", langFi},
		{"Kiitos nopeasta toimituksesta!", langFi},
		{"Hello, my parcel has not arrived and the tracking page does not work.", langEn},
		{"I was charged twice, please refund the other payment", langEn},
		{"Hej, mitt paket har inte kommit än. Vad ska jag göra?", langSv},
		{"Jag har fått fel faktura, kan ni rätta den?", langSv},
		{"Tack för hjälpen!", langSv},
		{"Myöhässä", langFi},
		{"Hyvä päivä", langFi},
		{"👍", langUnknown},
		{"ok", langUnknown},
		{"12345", langUnknown},
	}
	for _, tt := range tests {
		f := newFolder()
		f.add(tt.text, 1)
		if got := detectLang(f); got != tt.want {
			t.Errorf("detectLang(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestFoldCaseAgreesWithCasesFold(t *testing.T) {
	f := newFolder()
	caser := cases.Fold()
	var b strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		b.WriteRune(r)
		if r%7 == 0 {
			b.WriteByte(' ')
		}
	}
	s := b.String()
	if got, want := string(f.foldCase(nil, []byte(s))), caser.String(s); got != want {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("foldCase differs from cases.Fold at byte %d: %q vs %q", i, got[max(0, i-8):i+8], want[max(0, i-8):i+8])
			}
		}
		t.Fatalf("foldCase differs from cases.Fold in length: %d vs %d", len(got), len(want))
	}
}
