package rules

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
)

// mustParse parses rules written for a test, with teams a..f and triage
// declared.
func mustParse(t testing.TB, routes string) *Rules {
	t.Helper()
	src := "default_team: triage\nteams:\n"
	for _, n := range []string{"triage", "billing", "logistics", "product", "sales", "privacy", "comms"} {
		src += "  - name: " + n + "\n"
	}
	src += routes
	r, err := parse("t.yaml", []byte(src), parseOptions{noLint: true})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return r
}

func env(text string) *message.Envelope {
	return &message.Envelope{Channel: "web", Kind: message.KindWeb, Text: text}
}

// matches reports whether one route with text.any: [term] matches text.
func matches(t *testing.T, term, text, lang string) bool {
	t.Helper()
	r := mustParse(t, fmt.Sprintf("routes:\n  - id: r\n    team: billing\n    match: {text: {any: [%q]}}\n", term))
	e := env(text)
	e.Lang = lang
	d := r.Classify(e)
	ex, _ := r.Explain(e)
	if !slices.Equal(d.Matched, ex.Matched) {
		t.Fatalf("Classify matched %v, Explain %v", d.Matched, ex.Matched)
	}
	return len(d.Matched) == 1
}

func TestInflectedWords(t *testing.T) {
	tests := []struct {
		term, text, lang string
		want             bool
	}{
		// Finnish: the declared language, or detected.
		{"lasku", "Laskussani on virhe", "", true},
		{"lasku", "Missä viipyy laskun hyvitys?", "", true},
		{"lasku", "En ole saanut laskuja kahteen kuukauteen", "", true},
		{"lasku", "laskut", "fi", true},
		{"laskut", "läskut", "fi", false},
		{"lasku", "läskut", "fi", false},
		{"läskut", "laskut", "fi", true}, // typed without dots; see TestTypedWithoutDots
		{"paketti", "Paketin seuranta ei toimi", "", true},
		{"paketti", "Mitä paketista puuttuu", "fi", true},
		{"paketti", "pakettia ei ole tullut", "", true},
		{"toimitus", "toimituksen kanssa on ongelmia", "fi", true},
		{"toimitus", "odotan toimitusta", "fi", true},
		{"hyvitys", "Milloin saan hyvityksen?", "fi", true},
		{"hyvitys", "ei hyvitystä vieläkään", "fi", true},
		{"tilaus", "tilaukseni on kadonnut", "fi", true},
		// English.
		{"refund", "I was refunded twice", "", true},
		{"refund", "Refunds take too long", "en", true},
		{"refund", "still refunding?", "en", true},
		{"invoice", "the invoices are wrong", "en", true},
		{"charge", "you charged me", "en", true},
		{"refund", "refundable", "en", true}, // Snowball's choice: -able is a suffix
		// Whole words only.
		{"lasku", "palasku", "fi", false},
		{"gdpr", "gdprx", "en", false},
		// A language declared as a tag.
		{"lasku", "laskussani", "fi-FI", true},
		// A language without a stemmer: every stemmer applies.
		{"lasku", "laskussani", "de", true},
		{"refund", "refunded", "de", true},
		{"faktura", "fakturan", "de", true},
		// Swedish, declared or detected.
		{"faktura", "fakturorna", "sv", true},
		{"paket", "paketet", "sv", true},
		{"leverans", "leveransen har inte kommit", "", true},
		{"faktura", "Hej, jag har fått fel faktura och vill ha fakturan rättad", "", true},
		{"återbetalning", "när får jag återbetalningen?", "", true},
	}
	for _, tt := range tests {
		if got := matches(t, tt.term, tt.text, tt.lang); got != tt.want {
			t.Errorf("%q in %q (lang %q) = %v, want %v", tt.term, tt.text, tt.lang, got, tt.want)
		}
	}
}

func TestExactAndWildcardTerms(t *testing.T) {
	tests := []struct {
		term, text string
		want       bool
	}{
		{"=lasku", "lasku", true},
		{"=lasku", "LASKU!", true},
		{"=lasku", "laskun", false},
		{"=refund", "refunded", false},
		{"lasku*", "laskutus on sekaisin", true},
		{"lasku*", "sähkölasku", false},
		{"*lasku", "sähkölaskussa oli virhe", true},
		{"*lasku", "sähkölasku", true},
		{"*lasku", "laskutus", false},
		{"*lasku*", "sähkölaskutus", true},
		{"*paketti", "postipaketista puuttui osa", true},
		{"=*lasku", "sähkölaskussa", false},
		{"=*lasku", "sähkölasku", true},
	}
	for _, tt := range tests {
		if got := matches(t, tt.term, tt.text, "fi"); got != tt.want {
			t.Errorf("%q in %q = %v, want %v", tt.term, tt.text, got, tt.want)
		}
	}
}

func TestPhrasesCaseAccentsAndEmoji(t *testing.T) {
	tests := []struct {
		term, text, lang string
		want             bool
	}{
		{"double charged", "I was DOUBLE-CHARGED!!!", "en", true},
		{"double charged", "double\n\n   charged", "en", true},
		{"double charged", "doubled charges on my card", "en", true},
		{"double charged", "double, charged", "en", true},
		{"double charged", "double, then charged", "en", false},
		{"double charged", "charged double", "en", false},
		{"ei tullut", "Paketti EI ... tullut", "fi", true},
		{"café", "CAFE au lait", "en", true},
		{"cafe", "Café", "en", true},
		{"ärsyttää", "ÄRSYTTÄÄ TODELLA", "fi", true},
		{"ärsyttää", "arsyttaa", "fi", true},
		{"arsyttaa", "ärsyttää", "fi", false},
		{"😡", "mitä ihmettä 😡😡", "fi", true},
		{"👍", "kiitos 👍🏽", "fi", true},
		{"❤️", "❤ teille", "fi", true},
		{"ｇｄｐｒ", "GDPR", "en", true},
		{"straße", "STRASSE", "en", true},
	}
	for _, tt := range tests {
		if got := matches(t, tt.term, tt.text, tt.lang); got != tt.want {
			t.Errorf("%q in %q = %v, want %v", tt.term, tt.text, got, tt.want)
		}
	}
}

func TestPhrasesDoNotCrossSubjectAndText(t *testing.T) {
	r := mustParse(t, "routes:\n  - id: r\n    team: billing\n    match: {text: {any: [double charged, \"=double charged\"]}}\n")
	e := &message.Envelope{Subject: "double", Text: "charged for nothing", Lang: "en"}
	if d := r.Classify(e); len(d.Matched) != 0 {
		t.Fatalf("phrase matched across subject and text: %+v", d)
	}
	e.Subject = "I was double charged"
	if d := r.Classify(e); len(d.Matched) != 1 {
		t.Fatalf("phrase in the subject did not match: %+v", d)
	}
}

func TestConditions(t *testing.T) {
	r := mustParse(t, `routes:
  - id: fb-comment
    team: comms
    match: {channel: facebook, kind: [comment, reply], thread: reply}
  - id: vip
    team: sales
    match:
      author: {email: ["*@bigcustomer.fi"], name: ["Anna*"]}
  - id: page-post
    team: comms
    match: {metadata: {object: page_*}}
  - id: english
    team: product
    match: {lang: en, text: {all: [app, crash]}}
  - id: billing-not-spam
    team: billing
    match: {text: {any: [lasku], none: [arvonta]}}
  - id: order-number
    team: logistics
    match: {text: {regex: ['\btilaus(numero)?\s*#?\d{6}\b']}}
`)
	tests := []struct {
		name string
		env  message.Envelope
		want string // matched route, "" for none
	}{
		{"channel, kind and thread", message.Envelope{Channel: "facebook", Kind: "reply", ParentID: "p", Text: "hei"}, "fb-comment"},
		{"not a reply", message.Envelope{Channel: "facebook", Kind: "comment", Text: "hei"}, ""},
		{"wrong channel", message.Envelope{Channel: "x", Kind: "reply", ParentID: "p", Text: "hei"}, ""},
		{"author globs, case-insensitive", message.Envelope{Channel: "email", Author: message.Author{Email: "Anna.K@BigCustomer.fi", Name: "anna k"}, Text: "hei"}, "vip"},
		{"one author field missing", message.Envelope{Channel: "email", Author: message.Author{Email: "anna@bigcustomer.fi"}, Text: "hei"}, ""},
		{"metadata glob", message.Envelope{Channel: "facebook", Kind: "post", Metadata: map[string]string{"object": "page_post"}, Text: "x"}, "page-post"},
		{"metadata absent", message.Envelope{Channel: "facebook", Kind: "post", Text: "x"}, ""},
		{"lang and all", message.Envelope{Channel: "web", Lang: "en", Text: "The app crashes on start"}, "english"},
		{"all needs every word", message.Envelope{Channel: "web", Lang: "en", Text: "The app is slow"}, ""},
		{"lang mismatch", message.Envelope{Channel: "web", Lang: "fi", Text: "app crash"}, ""},
		{"none blocks", message.Envelope{Channel: "web", Text: "Lasku tuli arvonnan voitosta, arvonta oli huijaus"}, ""},
		{"any without none", message.Envelope{Channel: "web", Text: "Lasku on väärin"}, "billing-not-spam"},
		{"regex on folded text", message.Envelope{Channel: "web", Text: "TILAUSNUMERO #123456 puuttuu"}, "order-number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.Classify(&tt.env)
			want := []string(nil)
			if tt.want != "" {
				want = []string{tt.want}
			}
			if !slices.Equal(d.Matched, want) {
				t.Fatalf("matched %v, want %v", d.Matched, want)
			}
			ex, _ := r.Explain(&tt.env)
			if !slices.Equal(ex.Matched, d.Matched) {
				t.Fatalf("Explain matched %v, Classify %v", ex.Matched, d.Matched)
			}
		})
	}
}

func TestRoutingTree(t *testing.T) {
	r := mustParse(t, `vocabularies:
  money: [lasku, refund, hyvitys]
routes:
  - id: spam
    match: {text: {any: [bitcoin]}}
    noise: true
    tags: [spam]
  - id: angry
    match: {text: {any: ["😡"]}}
    copy_to: [comms]
    priority: high
    tags: [angry]
    continue: true
  - id: billing
    team: billing
    match: {text: {any: [$money]}}
    topics: [billing]
    priority: low
    routes:
      - id: refund
        match: {text: {any: [refund, hyvitys]}}
        topics: [refund]
        sticky: false
      - id: angry-billing
        match: {tags: [angry]}
        priority: urgent
  - id: upsell
    team: sales
    match: {text: {any: [upgrade]}}
    continue: true
  - id: product
    team: product
    copy_to: [sales]
    match: {text: {any: [bug]}}
  - id: never-after-product
    team: logistics
    match: {text: {any: [bug]}}
`)
	tests := []struct {
		text string
		want Decision
	}{
		{"nothing here", Decision{Teams: []string{"triage"}, Priority: "normal"}},
		{"lasku väärin", Decision{Teams: []string{"billing"}, Topics: []string{"billing"}, Priority: "low", Matched: []string{"billing"},
			Decided: true, Route: "billing"}},
		{"I want a refund", Decision{Teams: []string{"billing"}, Topics: []string{"billing", "refund"}, Priority: "low",
			Matched: []string{"billing", "refund"}, OverrideThread: true, Decided: true, Route: "refund"}},
		{"lasku 😡", Decision{Teams: []string{"billing", "comms"}, Topics: []string{"billing"}, Priority: "urgent",
			Tags: []string{"angry"}, Matched: []string{"angry", "billing", "angry-billing"}, Decided: true, Route: "angry-billing"}},
		// A tagging route with copy_to only does not decide: the default team owns it.
		{"😡😡", Decision{Teams: []string{"triage", "comms"}, Priority: "high", Tags: []string{"angry"}, Matched: []string{"angry"}}},
		{"upgrade, but there is a bug", Decision{Teams: []string{"sales", "product"}, Priority: "normal", Matched: []string{"upsell", "product"},
			Decided: true, Route: "upsell"}},
		{"bug", Decision{Teams: []string{"product", "sales"}, Priority: "normal", Matched: []string{"product"}, Decided: true, Route: "product"}},
		{"😡 bitcoin lasku", Decision{Priority: "normal", Tags: []string{"spam"}, Matched: []string{"spam"}, Noise: true, Decided: true, Route: "spam"}},
		{"bitcoin", Decision{Priority: "normal", Tags: []string{"spam"}, Matched: []string{"spam"}, Noise: true, Decided: true, Route: "spam"}},
	}
	for _, tt := range tests {
		got := normalized(r.Classify(env(tt.text)))
		tt.want.Version = r.Version()
		got.Lang = ""
		if want := normalized(tt.want); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.text, got, want)
		}
	}
}

func TestNoiseStopsEvenAfterContinue(t *testing.T) {
	r := mustParse(t, `routes:
  - id: tag
    match: {text: {any: [lasku]}}
    tags: [money]
    team: billing
    continue: true
  - id: spam
    match: {text: {any: [bitcoin]}}
    noise: true
`)
	d := r.Classify(env("lasku bitcoin"))
	if !d.Noise || len(d.Teams) != 0 || !slices.Equal(d.Matched, []string{"tag", "spam"}) || !slices.Equal(d.Tags, []string{"money"}) {
		t.Fatalf("noise after a continue route: %+v", d)
	}
}

func TestShippedRules(t *testing.T) {
	r, err := Load("../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w := r.Warnings(); len(w) > 0 {
		t.Errorf("shipped rules have warnings: %v", w)
	}
	tests := []struct {
		env    message.Envelope
		teams  string
		noise  bool
		topics string
	}{
		{message.Envelope{Channel: "email", Subject: "Laskussani on virhe", Text: "Hei, sähkölaskussani on väärä summa."}, "billing", false, "billing"},
		{message.Envelope{Channel: "facebook", Kind: "comment", Text: "Paketti ei ole vieläkään tullut!!"}, "logistics", false, "delivery,delay"},
		{message.Envelope{Channel: "x", Kind: "mention", Text: "@shop I was charged twice for one order. I want a refund"}, "billing", false, "billing,double-charge"},
		{message.Envelope{Channel: "web", Text: "Poistakaa tietoni rekisteristänne, GDPR"}, "privacy", false, "privacy"},
		{message.Envelope{Channel: "web", Text: "Epäilen tietovuotoa: tietosuoja on pettänyt"}, "privacy,comms", false, "privacy,breach"},
		{message.Envelope{Channel: "email", Text: "Haluan perua tilauksen 1150020"}, "logistics,billing", false, "cancellation"},
		{message.Envelope{Channel: "facebook", Kind: "comment", Text: "Boikotti! Sovellus kaatuu joka päivä 😡"}, "product,comms", false, "defect"},
		{message.Envelope{Channel: "facebook", Kind: "comment", Text: "Earn money fast with bitcoin, click here"}, "", true, ""},
		{message.Envelope{Channel: "facebook", Kind: "post", Text: "Uusi kampanja alkaa!", Metadata: map[string]string{"object": "page_post"}}, "", true, ""},
		{message.Envelope{Channel: "x", Kind: "reply", Text: "katso t.me/scamgroup"}, "", true, ""},
		{message.Envelope{Channel: "web", Text: "Kiitos hyvästä palvelusta"}, "triage", false, ""},
		{message.Envelope{Channel: "email", Text: "We are a business customer and would like a quote for 500 units"}, "sales", false, "sales,b2b"},
		// The main ask wins over a second topic (issue 14).
		{message.Envelope{Channel: "facebook", Kind: "comment", Text: "maksoin MobilePaylla mutta paketti ei ole tullut"}, "logistics", false, "delivery,delay"},
		{message.Envelope{Channel: "web", Text: "Ostamani puhelimen akku hajosi viikossa, takuu?"}, "product", false, "warranty"},
		{message.Envelope{Channel: "email", Subject: "Työhakemus", Text: "Haen myyjän paikkaa Tampereelta, CV liitteenä."}, "hr", false, "jobs"},
		{message.Envelope{Channel: "x", Kind: "mention", Text: "Sain tekstiviestin: pakettisi odottaa, maksa tullimaksu linkistä. Onko tää teiltä?"}, "security", false, "security"},
		{message.Envelope{Channel: "facebook", Kind: "comment", Text: "👍🏽"}, "", true, ""},
	}
	for _, tt := range tests {
		d := r.Classify(&tt.env)
		if got := strings.Join(d.Teams, ","); got != tt.teams || d.Noise != tt.noise || strings.Join(d.Topics, ",") != tt.topics {
			t.Errorf("%q: teams %q noise %v topics %v (matched %v), want %q %v %q", tt.env.Text, got, d.Noise, d.Topics, d.Matched, tt.teams, tt.noise, tt.topics)
		}
	}
}

func TestClassifyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; allocation counts mean nothing")
	}
	r, err := Load("../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		"Hei! Paketti ei ole vieläkään tullut, vaikka seurantakoodin mukaan se on noutopisteessä. Mitä teen?",
		"Hello, I was charged twice for my order and I would like a refund as soon as possible.",
		"Kiitos hyvästä palvelusta 👍🏽",
	} {
		e := env(text)
		r.Classify(e) // warm the pool and the stem cache
		if n := testing.AllocsPerRun(200, func() { r.Classify(e) }); n != 0 {
			t.Errorf("Classify(%q) allocates %.1f times per item", text, n)
		}
	}
}

func TestDecisionSlicesAreSafeToAppend(t *testing.T) {
	r := mustParse(t, "routes:\n  - id: r\n    team: billing\n    copy_to: [sales]\n    topics: [a]\n    match: {text: {any: [lasku]}}\n")
	d1 := r.Classify(env("lasku"))
	_ = append(d1.Teams, "x")
	_ = append(d1.Topics, "y")
	d2 := r.Classify(env("lasku"))
	if !slices.Equal(d2.Teams, []string{"billing", "sales"}) || !slices.Equal(d2.Topics, []string{"a"}) {
		t.Fatalf("a caller's append changed later decisions: %+v", d2)
	}
}

func TestConcurrentClassify(t *testing.T) {
	r, err := Load("../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"lasku", "paketti myöhässä", "refund please", "kiitos", "gdpr", "bitcoin click here"}
	want := make([]Decision, len(texts))
	for i, text := range texts {
		want[i] = r.Classify(env(text))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				k := (i + g) % len(texts)
				if got := r.Classify(env(texts[k])); fmt.Sprint(got) != fmt.Sprint(want[k]) {
					errs <- fmt.Sprintf("%q: %+v, want %+v", texts[k], got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestLanguage(t *testing.T) {
	r := mustParse(t, "routes: []\n")
	tests := []struct{ lang, text, want string }{
		{"", "Hei, paketti ei ole vieläkään tullut. Mitä teen?", "fi"},
		{"", "Hello, my parcel has not arrived yet and the tracking does not work.", "en"},
		{"", "👍", "und"},
		{"FI-fi", "whatever", "fi"},
		{"en_US", "mitä", "en"},
		{"sv", "Hej", "sv"},
		{"not a tag!", "Hello, my order has not arrived yet and nobody answers the phone.", "en"},
	}
	for _, tt := range tests {
		e := env(tt.text)
		e.Lang = tt.lang
		if got := r.Classify(e).Lang; got != tt.want {
			t.Errorf("lang %q text %q: %q, want %q", tt.lang, tt.text, got, tt.want)
		}
	}
}

func TestVocabularyIncludesAndOrGroups(t *testing.T) {
	r := mustParse(t, `vocabularies:
  app: [app, sovellus]
  crash: [kaatuu, crash]
  product: [$app, $crash, laite]
  everything: [$product, $app]
routes:
  - id: app-crash
    team: product
    match: {text: {all: [[$app, ohjelma], [$crash, jumittaa]]}}
  - id: any-product
    team: sales
    match: {text: {any: [$everything]}}
`)
	tests := []struct {
		text string
		want []string
	}{
		{"sovellus kaatuu aina", []string{"app-crash"}},
		{"the app crashed", []string{"app-crash"}},
		{"ohjelma jumittaa", []string{"app-crash"}},
		{"sovellus on hidas", []string{"any-product"}},
		{"laite on rikki", []string{"any-product"}},
		{"kaatuu", []string{"any-product"}},
		{"kiitos", nil},
	}
	for _, tt := range tests {
		d := r.Classify(env(tt.text))
		x, _ := r.Explain(env(tt.text))
		if !slices.Equal(d.Matched, tt.want) || !slices.Equal(x.Matched, tt.want) {
			t.Errorf("%q matched %v (Explain %v), want %v", tt.text, d.Matched, x.Matched, tt.want)
		}
	}
	for _, w := range r.Warnings() {
		if strings.Contains(w, "vocabulary") {
			t.Errorf("warning %q: included vocabularies count as used", w)
		}
	}
}

// TestTypedWithoutDots: a word written with ä, ö or å also matches it typed
// without them; never the reverse; not for words under four letters; and
// not when the rules list the dotless word too.
func TestTypedWithoutDots(t *testing.T) {
	tests := []struct {
		term, text string
		want       bool
	}{
		{"myöhässä", "paketti on myohassa", true},
		{"myöhässä", "MYOHASSA!!", true},
		{"myöhässä", "myöhässä", true},
		{"myöhässä", "myöhassa", false}, // dots dropped on some letters only
		{"ei ole vieläkään tullut", "ei ole vielakaan tullut", true},
		{"ei ole vieläkään tullut", "ei ole vieläkään tullut", true},
		{"=hätä", "hata", true},
		{"sähkö*", "sahkolasku", true},
		{"*lähetys", "pakettilahetyksen", true},
		{"återbetalning", "aterbetalningen", true},
		{"laskut", "läskut", false}, // the reverse: another word
		{"lasku", "läskussa", false},
		{"sää", "saa", false}, // too short: saa is another word
		{"pää", "paa", false},
		{"työ", "tyo", false},
	}
	for _, tt := range tests {
		if got := matches(t, tt.term, tt.text, ""); got != tt.want {
			t.Errorf("%q in %q = %v, want %v", tt.term, tt.text, got, tt.want)
		}
	}
	// The rules list both: each matches only its own word.
	r := mustParse(t, "routes:\n  - id: bills\n    team: billing\n    match: {text: {any: [lasku]}}\n  - id: fat\n    team: product\n    match: {text: {any: [läskut]}}\n")
	for text, want := range map[string]string{"laskut": "bills", "läskut": "fat", "laskussani": "bills"} {
		if d := r.Classify(env(text)); len(d.Matched) != 1 || d.Matched[0] != want {
			t.Errorf("%q matched %v, want %s", text, d.Matched, want)
		}
	}
}

func TestHyphenatedAndSpacedAreDifferentTerms(t *testing.T) {
	r := mustParse(t, "routes:\n  - id: spaced\n    team: billing\n    match: {text: {any: [e lasku]}}\n  - id: hyphen\n    team: sales\n    match: {text: {any: [e-lasku]}}\n")
	if d := r.Classify(env("elasku tuli")); !slices.Equal(d.Matched, []string{"hyphen"}) {
		t.Fatalf("elasku matched %v, want the hyphenated term's route", d.Matched)
	}
}

func TestHyphenatedWords(t *testing.T) {
	tests := []struct {
		term, text string
		want       bool
	}{
		{"e-lasku", "e-lasku tuli", true},
		{"e-lasku", "e lasku tuli", true},
		{"e-lasku", "elasku tuli", true},
		{"e-lasku", "elaskussa on virhe", true},
		{"e-lasku", "e-laskussa on virhe", true},
		{"pick-up point", "the pickup point", true},
		{"pick-up point", "the pick up point", true},
		{"e-lasku*", "e-laskutus", true},
		{"e-lasku*", "elaskutus", true},
		{"*-lasku", "sähkö-lasku", true},
		{"=e-lasku", "e-lasku", true},
		{"=e-lasku", "elasku", true},
		{"=e-lasku", "e-laskun", false},
		{"wi-fi", "wifi ei toimi", true},
		{"wifi", "wi-fi ei toimi", false}, // write the hyphenated form
	}
	for _, tt := range tests {
		if got := matches(t, tt.term, tt.text, "fi"); got != tt.want {
			t.Errorf("%q in %q = %v, want %v", tt.term, tt.text, got, tt.want)
		}
	}
}

// sticky: true makes a team route defer to the conversation (it does not
// decide, but names its route); sticky: false makes a route decide even
// without a team; children inherit either.
func TestStickyAndDecided(t *testing.T) {
	r := mustParse(t, `routes:
  - id: order-number
    team: logistics
    sticky: true
    match: {text: {any: [tilausnumero]}}
    routes:
      - id: order-number-late
        match: {text: {any: [myöhässä]}}
  - id: new-question
    sticky: false
    match: {text: {any: [uusi kysymys]}}
  - id: billing
    team: billing
    match: {text: {any: [lasku]}}
  - id: tag-only
    tags: [thanks]
    continue: true
    match: {text: {any: [kiitos]}}
`)
	tests := []struct {
		text    string
		decided bool
		route   string
		teams   string
	}{
		{"tilausnumero on 1180442", false, "order-number", "[logistics]"},
		{"tilausnumero 1180442 on myöhässä", false, "order-number-late", "[logistics]"},
		{"uusi kysymys", true, "", "[triage]"},
		{"lasku on väärin", true, "billing", "[billing]"},
		{"kiitos", false, "", "[triage]"},
		{"hei", false, "", "[triage]"},
	}
	for _, tt := range tests {
		d := r.Classify(env(tt.text))
		if d.Decided != tt.decided || d.Route != tt.route || fmt.Sprint(d.Teams) != tt.teams {
			t.Errorf("%q: decided %v route %q teams %v, want %v %q %s", tt.text, d.Decided, d.Route, d.Teams, tt.decided, tt.route, tt.teams)
		}
	}
}
