package identity

import (
	"slices"
	"strings"
	"testing"
)

func emailsIn(s string) []string {
	var out []string
	scanEmails(s, func(a string) bool { out = append(out, a); return true })
	return out
}

func TestScanEmails(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"plain", "Laitoin viestin osoitteesta Matti.Meikalainen@Example.FI eilen", []string{"matti.meikalainen@example.fi"}},
		{"angle brackets", "Matti <matti@example.fi>", []string{"matti@example.fi"}},
		{"mailto", "mailto:matti@example.fi", []string{"matti@example.fi"}},
		{"end of sentence", "Vastatkaa osoitteeseen matti@example.fi.", []string{"matti@example.fi"}},
		{"in parentheses", "(matti@example.fi)", []string{"matti@example.fi"}},
		{"quoted", "'matti@example.fi'", []string{"matti@example.fi"}},
		{"plus tag kept", "matti+kauppa@example.fi", []string{"matti+kauppa@example.fi"}},
		{"idn domain", "maija@pöllö.fi", []string{"maija@pöllö.fi"}},
		{"two", "a@example.fi, b@example.com", []string{"a@example.fi", "b@example.com"}},
		{"subdomain", "x@mail.example.co.uk", []string{"x@mail.example.co.uk"}},

		{"handle", "@matti_m kirjoitti", nil},
		{"no tld", "matti@localhost", nil},
		{"numeric tld", "matti@10.0.0.1", nil},
		{"double at", "a@b@example.fi", nil},
		{"leading dot local", ".matti@example.fi", []string{"matti@example.fi"}},
		{"double dot", "matti..m@example.fi", nil},
		{"one letter tld", "matti@example.f", nil},
		{"empty local", "@example.fi", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := emailsIn(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("scanEmails(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func FuzzEmails(f *testing.F) {
	for _, s := range []string{"matti@example.fi", "a@b@c.fi", "@", "x@y.", "<a@b.fi>.", "'a'@b.fi", "a@pöllö.fi", "\xff@\xfe.fi"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range emailsIn(s) {
			if again, ok := canonicalEmail(a); !ok || again != a {
				t.Fatalf("canonicalEmail(%q) = %q, %v: not canonical (from %q)", a, again, ok, s)
			}
			if a != strings.ToLower(a) || strings.Count(a, "@") != 1 {
				t.Fatalf("bad address %q from %q", a, s)
			}
		}
	})
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Matti Meikäläinen", "matti meikalainen"},
		{"matti meikalainen", "matti meikalainen"},
		{"  MATTI   MEIKÄLÄINEN ", "matti meikalainen"},
		{"Meikäläinen, Matti", "matti meikalainen"},
		{"Meikäläinen Matti", "matti meikalainen"},
		{"Matti Meikäläinen (Yritys Oy)", "matti meikalainen"},
		{"Matti Meikäläinen | Yritys Oy", "matti meikalainen"},
		{"Matti J. Meikäläinen", "matti meikalainen"},
		{"Anna-Liisa Virtanen", "anna liisa virtanen"},
		{"Åsa Öberg", "asa oberg"},
		{"Sean O'Brien", "obrien sean"},
		{"Matti Meika\u0308la\u0308inen", "matti meikalainen"}, // decomposed ä
		{"Matti Meikäläinen 🚀", "matti meikalainen"},
		{"Matti", ""},
		{"🚀🚀", ""},
		{"M M", ""},
		{"Matti 123", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		// Finnish, written and spoken.
		{"Laitoin sähköpostia eilen, mutta kukaan ei vastannut.", []string{"email"}},
		{"laitoin sahkopostia", []string{"email"}},
		{"Lähetin teille meilin viime viikolla", []string{"email"}},
		{"Kirjoitin teille myös twitterissä", []string{"x"}},
		{"kirjoitin myös X:ssä samasta asiasta", []string{"x"}},
		{"Kirjoitin teille myös facebookissa", []string{"facebook"}},
		{"kirjotin jo facessa", []string{"facebook"}},
		{"Olen jo lähettänyt viestin Messengerissä", []string{"facebook"}},
		{"oon laittanu teille meiliä", []string{"email"}},
		{"Meilasin teille tästä jo maanantaina", []string{"email"}},
		{"Sähköpostia laitoin jo", []string{"email"}},
		{"Saitteko sähköpostini?", []string{"email"}},
		{"Täytin lomakkeen verkkosivuillanne", []string{"web"}},
		{"Soitin teille eilen", []string{"phone"}},
		{"Twiittasin tästä", []string{"x"}},
		{"Laitoin YV:tä", []string{"facebook", "x"}},
		// English.
		{"I emailed you on Monday", []string{"email"}},
		{"DM'd you yesterday", []string{"facebook", "x"}},
		{"As I wrote on Facebook, the order never came", []string{"facebook"}},
		{"I already sent you an email about this", []string{"email"}},
		{"I've written to you on X twice", []string{"x"}},
		{"Did you get my email?", []string{"email"}},
		{"see my message on Facebook", []string{"facebook"}},
		{"I tweeted about this", []string{"x"}},
		// Swedish.
		{"Jag skickade ett mejl igår", []string{"email"}},
		{"skickade ett mejl", []string{"email"}},
		{"Skrev på Facebook också", []string{"facebook"}},
		{"Jag har mejlat er två gånger", []string{"email"}},
		{"Fick ni mitt mejl?", []string{"email"}},

		// Near misses.
		{"Laitan huomenna sähköpostia", nil},
		{"Lähetättekö laskun sähköpostilla?", nil},
		{"Sähköpostiosoitteeni on matti@example.fi", nil},
		{"Sähköpostini on matti@example.fi", nil},
		{"Lähettäkää vastaus sähköpostiini", nil},
		{"My email address is matti@example.fi", nil},
		{"my email is matti@example.fi", nil},
		{"I haven't emailed you yet", nil},
		{"I have not written to you on Facebook", nil},
		{"You emailed me the wrong invoice", nil},
		{"The invoice was sent by email", nil},
		{"CD-soitin ei toimi", nil},
		{"Soitin on rikki, vaihtakaa se", nil},
		{"Facebookissa oli mainos tästä", nil},
		{"Kirjoitin arvostelun tuotteesta", nil},
		{"Laitoin tilauksen eilen", nil},
		{"En ole lähettänyt sähköpostia", nil},
		{"Jag har inte skickat något mejl", nil},
		{"Ni skickade ett mejl till fel adress", nil},
		{"Meillä ei toimi netti", nil},
		{"Twitter on täynnä botteja", nil},
		{"Luin Facebookista että tarjous loppuu", nil},
		{"Sain teiltä sähköpostia", nil},
		{"I sent a photo of my face", nil},
		{"Hinta on 3 x 2 euroa, laitoin sen koriin", nil},
		{"My Facebook account was hacked", nil},
		{"Laitoin sähköpostia. Facebookissa oli mainos.", []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := References(tt.text).Names(); !slices.Equal(got, tt.want) {
				t.Errorf("References(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func FuzzTextScanners(f *testing.F) {
	for _, s := range []string{"Laitoin sähköpostia", "x:ssä", "dm'd", "'", ":-", "my", "soitin", "olen"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = References(s)
		n := NormalizeName(s)
		if n != "" && NormalizeName(n) != n {
			t.Fatalf("NormalizeName(%q) = %q, not stable: %q", s, n, NormalizeName(n))
		}
	})
}
