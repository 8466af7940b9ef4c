package identity

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in, want string // want "" = rejected
	}{
		{"040 123 4567", "+358401234567"},
		{"0401234567", "+358401234567"},
		{"040-123 4567", "+358401234567"},
		{"+358 40 123 4567", "+358401234567"},
		{"+358401234567", "+358401234567"},
		{"+358 (0)40 123 4567", "+358401234567"},
		{"00358 40 123 4567", "+358401234567"},
		{"050 765 4321", "+358507654321"},
		{"045 1234 5678", "+3584512345678"},
		{"044 123 456", "+35844123456"},
		{"09 123 4567", "+35891234567"},
		{"(09) 123 4567", "+35891234567"},
		{"013 123 456", "+35813123456"},
		{"020 123 456", "+35820123456"},
		{"+46 70 123 45 67", "+46701234567"},
		{"+372 5123 4567", "+37251234567"},
		// Too short, too long, not Finnish-shaped, not a number.
		{"040 123", ""},
		{"040 1234 5678 90", ""},
		{"010 123 4567", ""}, // 010 is left out on purpose
		{"0700 123 456", ""},
		{"047 123 4567", ""},
		{"1180442", ""},
		{"+0 123 456 789", ""},
		{"+358 10 123", ""},
		{"0046 70 123 45 67", ""},
		{"00100", ""},
		{"", ""},
		{"040 123 4567 ext", ""},
		{"+1234567", ""},
	}
	for _, tt := range tests {
		got, ok := ParsePhone(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("ParsePhone(%q) = %q, want rejected", tt.in, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("ParsePhone(%q) = %q, %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}

func phonesIn(s string) []string {
	var out []string
	scanPhones(s, func(p string) bool { out = append(out, p); return true })
	return out
}

func TestScanPhones(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"mobile with spaces", "Soittakaa minulle 040 123 4567, kiitos", []string{"+358401234567"}},
		{"signature", "Matti\np. 050-765 4321\nmatti@example.fi", []string{"+358507654321"}},
		{"abbreviation dot", "puh.040 1234567", []string{"+358401234567"}},
		{"international", "My number is +358 40 123 4567.", []string{"+358401234567"}},
		{"trunk in parentheses", "tel +358 (0)40 123 4567", []string{"+358401234567"}},
		{"00358", "numero 00358401234567", []string{"+358401234567"}},
		{"area code in parentheses", "vaihde (09) 123 4567", []string{"+35891234567"}},
		{"two numbers", "040 123 4567 tai 050 765 4321", []string{"+358401234567", "+358507654321"}},
		{"two numbers in one run", "040 123 4567 050 765 4321", []string{"+358401234567", "+358507654321"}},
		{"order number then phone", "tilaus 1180442 040 123 4567", []string{"+358401234567"}},
		{"phone then order number", "040 1234567 1180442", []string{"+358401234567"}},
		{"swedish", "ring mig på +46 70 123 45 67", []string{"+46701234567"}},
		{"nbsp", "040\u00a0123\u00a04567", []string{"+358401234567"}},
		{"quoted", "(040 123 4567)", []string{"+358401234567"}},
		{"end of sentence", "Numeroni on 0401234567.", []string{"+358401234567"}},

		// Not phone numbers.
		{"order number", "Tilausnumero on 1180442", nil},
		{"date with dots", "Tilasin 01.02.2024 ja 9.3.2024", nil},
		{"date with dashes", "toimitus 02-03-2024", nil},
		{"short date with dashes", "toimitus 05-03-24", nil},
		{"iso date", "2024-01-02", nil},
		{"time", "klo 09:30-16:00", nil},
		{"price", "Hinta 0,50 € ja 1 050 €", nil},
		{"amount with currency after", "maksoin 050 123 €", nil},
		{"iban", "Tilinumero FI21 1234 5600 0007 85", nil},
		{"iban with phone-like group", "FI12 3456 0401 2345 67", nil},
		{"iban without spaces", "FI2112345600000785", nil},
		{"reference number", "Viite RF18 5390 0754 7034", nil},
		{"finnish reference", "viitenumero 12345 67890 1", nil},
		{"personal identity code", "hetu 010190-123A", nil},
		{"personal identity code with digit check", "hetu 020390-1234", nil},
		{"business id", "Y-tunnus 0123456-7", nil},
		{"postal code", "00100 Helsinki", nil},
		{"postal code and street number", "Mannerheimintie 12, 02100 Espoo", nil},
		{"glued to letters", "tel0401234567 ja 0401234567abc", nil},
		{"url", "https://example.com/t/0401234567/x", nil},
		{"query string", "?id=0401234567", nil},
		{"decimal", "3.0401234567", nil},
		{"email local part", "0401234567@sms.example.fi", nil},
		{"hashtag", "#0401234567", nil},
		{"too short", "soita 040 123", nil},
		{"mobile prefix 047", "047 123 4567", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := phonesIn(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("scanPhones(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// FuzzPhones: no text makes the scanners panic, everything they return is
// canonical (parsing it again gives itself) and E.164-shaped, and every
// number found in text is one ParsePhone accepts.
func FuzzPhones(f *testing.F) {
	for _, s := range []string{
		"040 123 4567", "+358 (0)40 123 4567", "FI21 1234 5600 0007 85", "(09)1234567", "(", "+", "0",
		"040 123 4567 050 765 4321", "\u00a0040\u00a0123", "010190-1234", "+358 (0", "((09))", "040-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(p string) {
			if !strings.HasPrefix(p, "+") || len(p) < 9 || len(p) > 16 {
				t.Fatalf("not E.164: %q from %q", p, s)
			}
			for _, c := range p[1:] {
				if c < '0' || c > '9' {
					t.Fatalf("not E.164: %q from %q", p, s)
				}
			}
			if again, ok := ParsePhone(p); !ok || again != p {
				t.Fatalf("ParsePhone(%q) = %q, %v: not canonical (from %q)", p, again, ok, s)
			}
		}
		if p, ok := ParsePhone(s); ok {
			check(p)
		}
		for _, p := range phonesIn(s) {
			check(p)
		}
	})
}
