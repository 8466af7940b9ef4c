package identity

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

func testExtractor(t testing.TB) *Extractor {
	t.Helper()
	x, err := New(Config{
		Patterns:   map[string]string{"order": `\b11\d{5}\b`, "customer": `(?i)asiakasnumero:?\s*(\d{6})`},
		OwnDomains: []string{"yritys.fi"},
		OwnKeys:    []string{"phone:09 123 4567", "email:palvelu@kumppani.fi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func env(channel string, a message.Author, text string, meta map[string]string) *message.Envelope {
	return &message.Envelope{Version: 1, ID: channel + ":1", Channel: channel, Kind: message.KindComment, SourceID: "1",
		Author: a, Text: text, Metadata: meta, CreatedAt: time.Unix(1e9, 0)}
}

func keyStrings(ks []Key) []string {
	out := []string{}
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

func TestKeys(t *testing.T) {
	x := testExtractor(t)
	tests := []struct {
		name          string
		env           *message.Envelope
		author, found []string
		skipped       string // substring of the joined skip reasons
		nameNorm      string
		refers        []string
	}{
		{
			name:     "facebook comment with phone and order",
			env:      env("facebook", message.Author{ID: "7011223344", Name: "Maija Meikäläinen"}, "Tilaus 1180442 ei tullut, soita 040 123 4567", map[string]string{"page_id": "104"}),
			author:   []string{"fb:7011223344"},
			found:    []string{"phone:+358401234567", "order:1180442"},
			nameNorm: "maija meikalainen",
			refers:   []string{},
		},
		{
			name:    "facebook page's own post",
			env:     env("facebook", message.Author{ID: "104", Name: "Yritys"}, "Soita 040 123 4567", map[string]string{"page_id": "104"}),
			author:  []string{},
			found:   []string{},
			skipped: ReasonOwnMessage,
		},
		{
			name:     "x mention with handle and reference",
			env:      env("x", message.Author{ID: "555", Handle: "Matti_M", Name: "Matti Meikäläinen"}, "@yritys laitoin teille jo sähköpostia", map[string]string{"account_id": "9"}),
			author:   []string{"x:555", "xh:matti_m"},
			found:    []string{},
			nameNorm: "matti meikalainen",
			refers:   []string{"email"},
		},
		{
			name:   "x own account",
			env:    env("x", message.Author{ID: "9", Handle: "yritys"}, "Kiitos!", map[string]string{"account_id": "9"}),
			author: []string{}, found: []string{}, skipped: ReasonOwnMessage,
		},
		{
			name: "email with signature phone and customer number",
			env: env("email", message.Author{ID: "matti@example.fi", Email: "Matti@Example.fi", Name: "Meikäläinen Matti"},
				"Asiakasnumero: 123456. Kirjoitin myös Facebookissa.", map[string]string{"signature": "Matti\n+358 40 123 4567", "to": "asiakaspalvelu@yritys.fi"}),
			author:   []string{"email:matti@example.fi"},
			found:    []string{"customer:123456", "phone:+358401234567"},
			nameNorm: "matti meikalainen",
			refers:   []string{"facebook"},
		},
		{
			name: "own addresses and phone in text are left out",
			env: env("email", message.Author{Email: "matti@example.fi"},
				"Vastaus osoitteesta asiakaspalvelu@yritys.fi tai palvelu@kumppani.fi, vaihde 09 123 4567", nil),
			author:  []string{"email:matti@example.fi"},
			found:   []string{},
			skipped: ReasonOwn,
		},
		{
			name:   "mail from the company's own domain",
			env:    env("email", message.Author{Email: "myyja@myynti.yritys.fi"}, "asiakkaan numero 040 123 4567", nil),
			author: []string{}, found: []string{}, skipped: ReasonOwnMessage,
		},
		{
			name:    "form notification from noreply: only the form's fields",
			env:     env("email", message.Author{Email: "noreply@lomakepalvelu.fi"}, "Nimi: Maija\nSähköposti: maija@example.fi\nPuhelin: 050 765 4321", nil),
			author:  []string{},
			found:   []string{"email:maija@example.fi", "phone:+358507654321"},
			skipped: ReasonRole,
		},
		{
			name:   "web intake with id, email and form metadata",
			env:    env("web", message.Author{ID: "Visitor-42", Email: "maija@example.fi"}, "Hei", map[string]string{"phone": "050 765 4321", "page": "0401234567"}),
			author: []string{"web:visitor-42", "email:maija@example.fi"},
			found:  []string{"phone:+358507654321"},
		},
		{
			name:   "author email repeated in text is not found twice",
			env:    env("email", message.Author{Email: "matti@example.fi"}, "minun osoite on matti@example.fi", nil),
			author: []string{"email:matti@example.fi"},
			found:  []string{},
		},
		{
			name:   "invalid author ids",
			env:    env("facebook", message.Author{ID: "not digits"}, "hei", nil),
			author: []string{}, found: []string{}, skipped: ReasonBadAuthorID,
		},
		{
			name: "too many identifiers",
			env: env("email", message.Author{Email: "lista@example.fi"},
				strings.Repeat("tilaus 1100001 1100002 1100003 1100004 1100005 1100006 1100007 1100008 1100009 ", 1), nil),
			author:  []string{"email:lista@example.fi"},
			found:   []string{},
			skipped: ReasonTooManyKeys,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := x.Keys(tt.env)
			if got := keyStrings(k.Author); !slices.Equal(got, tt.author) {
				t.Errorf("Author = %q, want %q", got, tt.author)
			}
			if got := keyStrings(k.Found); !slices.Equal(got, tt.found) {
				t.Errorf("Found = %q, want %q", got, tt.found)
			}
			var reasons []string
			for _, s := range k.Skipped {
				reasons = append(reasons, s.Reason)
			}
			if tt.skipped != "" && !strings.Contains(strings.Join(reasons, "; "), tt.skipped) {
				t.Errorf("Skipped = %q, want a reason containing %q", reasons, tt.skipped)
			}
			if k.Name != tt.nameNorm {
				t.Errorf("Name = %q, want %q", k.Name, tt.nameNorm)
			}
			if tt.refers != nil {
				if got := k.Refers.Names(); !slices.Equal(got, tt.refers) && !(len(got) == 0 && len(tt.refers) == 0) {
					t.Errorf("Refers = %q, want %q", got, tt.refers)
				}
			}
		})
	}
}

func TestReferenceToOwnChannelIsIgnored(t *testing.T) {
	x := testExtractor(t)
	k := x.Keys(env("email", message.Author{Email: "matti@example.fi", Name: "Matti Meikäläinen"}, "Laitoin jo sähköpostia eilen", nil))
	if k.Refers != 0 {
		t.Fatalf("an email saying it emailed refers to %q", k.Refers.Names())
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	_, err := New(Config{
		Patterns:       map[string]string{"order": `(`, "phone": `\d+`, "Bad Name": `x`, "empty": ``, "anything": `x*`},
		OwnDomains:     []string{"not a domain"},
		OwnKeys:        []string{"phone:123", "nokind"},
		MetadataFields: []string{" "},
		MaxTextKeys:    -1,
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"patterns.order:", "patterns.phone:", "patterns.Bad Name:", "patterns.empty:", "patterns.anything:",
		"own_domains[0]:", "own_keys[0]:", "own_keys[1]:", "metadata_fields[0]:", "max_text_keys:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	x := testExtractor(t)
	tests := []struct{ in, want string }{
		{"phone:040 123 4567", "phone:+358401234567"},
		{"email:Matti@Example.FI", "email:matti@example.fi"},
		{"xh:@Matti_M", "xh:matti_m"},
		{"x:555", "x:555"},
		{"fb:7011223344", "fb:7011223344"},
		{"order: 1180442 ", "order:1180442"},
		{"web:Visitor-42", "web:visitor-42"},
		{"FB:1", "fb:1"},
		{"fb:abc", ""},
		{"phone:12", ""},
		{"email:nope", ""},
		{"nokind", ""},
		{":x", ""},
		{"order:", ""},
		{"Bad Kind:x", ""},
	}
	for _, tt := range tests {
		got, err := x.ParseKey(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseKey(%q) = %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("ParseKey(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
		// Canonical keys parse to themselves.
		if again, err := x.ParseKey(string(got)); err != nil || again != got {
			t.Errorf("ParseKey(%q) = %q, %v: not canonical", got, again, err)
		}
	}
}

// FuzzKeys: no envelope makes Keys panic, and every key it yields is
// canonical (ParseKey gives it back unchanged).
func FuzzKeys(f *testing.F) {
	f.Add("facebook", "7011223344", "", "", "Maija M", "Tilaus 1180442, soita 040 123 4567", "")
	f.Add("email", "a@b.fi", "", "A@B.fi", "Matti Meikäläinen", "laitoin sähköpostia matti@x.fi", "p. 050 765 4321")
	f.Add("x", "1", "h", "", "", "DM'd you", "")
	f.Add("web", "\xff", "", "@", "", "", "")
	x := testExtractor(f)
	f.Fuzz(func(t *testing.T, channel, id, handle, email, name, text, signature string) {
		e := env(channel, message.Author{ID: id, Handle: handle, Email: email, Name: name}, text, map[string]string{"signature": signature})
		k := x.Keys(e)
		for _, key := range k.All() {
			again, err := x.ParseKey(string(key))
			if err != nil || again != key {
				t.Fatalf("key %q is not canonical: %q, %v", key, again, err)
			}
		}
		if len(k.Found) > DefaultMaxTextKeys {
			t.Fatalf("%d found keys", len(k.Found))
		}
	})
}

func BenchmarkKeys(b *testing.B) {
	x := testExtractor(b)
	e := env("email", message.Author{Email: "matti@example.fi", Name: "Matti Meikäläinen"},
		"Hei! Laskussani on kaksi kertaa sama tilaus 1180442, vaikka tilasin vain yhden. Laitoin teille jo eilen sähköpostia asiasta mutta en ole saanut vastausta. Voitteko hyvittää toisen veloituksen? Kenelle voin soittaa, jos tämä ei onnistu näin? Terveisin Matti", map[string]string{"signature": "Matti\n040 123 4567"})
	b.ReportAllocs()
	for b.Loop() {
		k := x.Keys(e)
		if len(k.Found) != 2 {
			b.Fatal(fmt.Sprint(k.Found))
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	tests := []struct {
		expr string
		lit  string
		fold bool
	}{
		{`\b11\d{5}\b`, "11", false},
		{`(?i)asiakasnumero:?\s*(\d{6})`, "asiakasnumero", true},
		{`(?i)ASIAKAS(\d+)`, "asiakas", true},
		{`tilaus|order`, "", false},
		{`(?:AB)+-\d+`, "AB", false},
		{`x?\d+`, "", false},
		{`(?i)kääk\d`, "", false},
		{`\d{7}`, "", false},
	}
	for _, tt := range tests {
		lit, fold := requiredLiteral(tt.expr)
		if lit != tt.lit || fold != tt.fold {
			t.Errorf("requiredLiteral(%q) = %q, %v, want %q, %v", tt.expr, lit, fold, tt.lit, tt.fold)
		}
	}
}
