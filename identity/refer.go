package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Channels is a set of channels a message refers to ("I emailed you": the
// email channel).
type Channels uint8

// The channels a message can refer to. Phone is not a channel Switchboard
// reads; it is recognized so that "soitin teille" is not mistaken for
// anything else, and never links.
const (
	RefEmail Channels = 1 << iota
	RefFacebook
	RefX
	RefWeb
	RefPhone
)

var channelNames = []struct {
	c    Channels
	name string
}{{RefEmail, "email"}, {RefFacebook, "facebook"}, {RefX, "x"}, {RefWeb, "web"}, {RefPhone, "phone"}}

// ChannelRef returns the reference bit of an envelope channel ("email",
// "facebook", "x", "web"), 0 for another.
func ChannelRef(channel string) Channels {
	for _, n := range channelNames {
		if n.name == channel {
			return n.c
		}
	}
	return 0
}

// Names lists the channels in c.
func (c Channels) Names() []string {
	var out []string
	for _, n := range channelNames {
		if c&n.c != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// maxReferScan bounds how much text References reads.
const maxReferScan = 8 << 10

// References reports which channels text says its author already used to
// reach the company, in Finnish, English or Swedish, including inflected
// and spoken forms: "laitoin sähköpostia", "lähetin meilin", "kirjoitin
// teille myös twitterissä / X:ssä / facebookissa", "olen jo laittanut
// viestiä messengerissä", "saitteko sähköpostini?", "I emailed you",
// "DM'd you", "as I wrote on Facebook", "did you get my email?", "skickade
// ett mejl", "skrev på Facebook".
//
// A reference is a first-person past sending verb (laitoin, lähetin,
// kirjoitin, olen lähettänyt, wrote, sent, skickade, skrev, …) within six
// words of a channel word in the same sentence, a verb that names its
// channel (meilasin, emailed, tweeted, DM'd, mejlade), or a possessive
// (sähköpostini, my email, mitt mejl). Not references: the future or
// present ("laitan sähköpostia"), negations ("I haven't emailed", "jag har
// inte skickat"), another subject ("you emailed me", "the invoice was sent
// by email"), an address ("sähköpostiosoitteeni on…", "my email address
// is…", "my email is…"), a channel word without a verb ("Facebookissa oli
// mainos"), a verb without a channel ("laitoin tilauksen"), and the noun
// "soitin" (a player: "CD-soitin ei toimi").
func References(text string) Channels {
	if len(text) > maxReferScan {
		text = text[:maxReferScan]
	}
	_, toks, ends := tokenize(text)
	var out Channels
	start := 0
	for _, end := range ends {
		if end > start {
			out |= sentenceRefs(toks[start:end])
		}
		start = end
	}
	return out
}

// tokenize splits text into folded words (lowercase, diacritics stripped,
// with ':' '-' and apostrophes kept inside a word: "x:ssä" → "x:ssa",
// "e-mail", "dm'd"). The words are substrings of folded, so splitting
// allocates once; ends holds the end index in toks of each sentence.
func tokenize(s string) (folded string, toks []string, ends []int) {
	var b strings.Builder
	b.Grow(len(s) + 16)
	type span struct{ start, end int }
	spans := make([]span, 0, len(s)/5+1)
	var sentenceEnds []int
	wordStart := -1
	flush := func() {
		if wordStart >= 0 && b.Len() > wordStart {
			spans = append(spans, span{wordStart, b.Len()})
		}
		wordStart = -1
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if wordStart < 0 {
				wordStart = b.Len()
			}
			foldInto(&b, r)
		case unicode.IsMark(r):
		case (r == ':' || r == '-' || r == '\'' || r == '’') && wordStart >= 0 && i < len(s):
			next, _ := utf8.DecodeRuneInString(s[i:])
			if unicode.IsLetter(next) || unicode.IsDigit(next) {
				if r == '’' {
					r = '\''
				}
				b.WriteRune(r)
			} else {
				flush()
			}
		case r == '.' || r == '!' || r == '?' || r == '\n' || r == ';':
			flush()
			if len(sentenceEnds) == 0 || sentenceEnds[len(sentenceEnds)-1] != len(spans) {
				sentenceEnds = append(sentenceEnds, len(spans))
			}
		default:
			flush()
		}
		if wordStart >= 0 && b.Len()-wordStart > 64 {
			flush()
		}
	}
	flush()
	sentenceEnds = append(sentenceEnds, len(spans))
	folded = b.String()
	toks = make([]string, len(spans))
	for i, sp := range spans {
		toks[i] = folded[sp.start:sp.end]
	}
	return folded, toks, sentenceEnds
}

// The word lists are folded (ä → a, ö → o, å → a).
var (
	// Channel words by prefix.
	channelPrefixes = []struct {
		prefix string
		c      Channels
	}{
		{"sahkopost", RefEmail}, {"s-post", RefEmail}, {"spost", RefEmail}, {"email", RefEmail}, {"e-mail", RefEmail},
		{"meili", RefEmail}, {"maili", RefEmail}, {"mejl", RefEmail}, {"e-post", RefEmail}, {"epost", RefEmail},
		{"facebook", RefFacebook}, {"messenger", RefFacebook}, {"fb:", RefFacebook}, {"face:", RefFacebook},
		{"facess", RefFacebook}, {"facee", RefFacebook}, {"facest", RefFacebook}, {"fejan", RefFacebook},
		{"twitter", RefX}, {"twiit", RefX}, {"tviit", RefX}, {"tweet", RefX}, {"twitt", RefX}, {"x:", RefX},
		{"dm:", RefFacebook | RefX}, {"yv:", RefFacebook | RefX}, {"yksityisviest", RefFacebook | RefX}, {"privaviest", RefFacebook | RefX},
		{"lomak", RefWeb}, {"yhteydenottolomak", RefWeb}, {"palautelomak", RefWeb}, {"verkkosivu", RefWeb}, {"nettisivu", RefWeb},
		{"chat", RefWeb}, {"kontaktformul", RefWeb}, {"formular", RefWeb}, {"webform", RefWeb}, {"webbformul", RefWeb},
		{"puhelim", RefPhone}, {"puhelu", RefPhone}, {"phone", RefPhone}, {"telefon", RefPhone},
	}
	// Channel words that must match whole.
	channelExact = map[string]Channels{
		"mail": RefEmail, "mails": RefEmail, "fb": RefFacebook,
		"dm": RefFacebook | RefX, "dms": RefFacebook | RefX, "pm": RefFacebook | RefX, "yv": RefFacebook | RefX,
		"form": RefWeb, "call": RefPhone,
	}
	// Words before a bare "x" that make it the service: "on X", "på X".
	xPrepositions = map[string]bool{"on": true, "in": true, "via": true, "pa": true, "over": true, "through": true}

	// First-person past (or dropped-subject) sending verbs; they need a
	// channel word nearby. Finnish forms carry the person; English and
	// Swedish ones are checked for another subject and negation.
	sendVerbs = map[string]bool{
		// fi: past 1sg/1pl and the spoken passive-for-1pl
		"laitoin": true, "laitoimme": true, "laitettiin": true, "lahetin": true, "lahetimme": true, "lahetettiin": true,
		"kirjoitin": true, "kirjotin": true, "kirjoitimme": true, "kirjoitettiin": true, "kirjotettiin": true,
		"pistin": true, "viestitin": true, "viestittelin": true, "kysyin": true, "kyselin": true, "otin": true,
		"yritin": true, "taytin": true, "jatin": true, "kommentoin": true, "vastasin": true, "postasin": true, "julkaisin": true,
		// en
		"wrote": true, "written": true, "sent": true, "messaged": true, "posted": true, "commented": true,
		"contacted": true, "filled": true, "reached": true, "replied": true, "submitted": true, "left": true,
		// sv
		"skickade": true, "skickat": true, "skrev": true, "skrivit": true, "postade": true, "kommenterade": true,
		"kontaktade": true, "fyllde": true, "fyllt": true, "horde": true, "hort": true, "lamnade": true,
	}
	// Finnish past participles: a reference only after a first-person
	// auxiliary ("olen lähettänyt", "oon laittanu"); "en ole lähettänyt" is
	// a negation and does not count.
	participles = map[string]Channels{
		"laittanut": 0, "laittanu": 0, "lahettanyt": 0, "lahettany": 0, "kirjoittanut": 0, "kirjoittanu": 0,
		"kirjottanut": 0, "kirjottanu": 0, "pistanyt": 0, "pistany": 0, "viestittanyt": 0, "kysynyt": 0,
		"ottanut": 0, "ottanu": 0, "yrittanyt": 0, "tayttanyt": 0, "jattanyt": 0, "jattany": 0,
		"kommentoinut": 0, "vastannut": 0,
		"meilannut": RefEmail, "meilannu": RefEmail, "mailannut": RefEmail, "mailannu": RefEmail,
		"sahkopostittanut": RefEmail, "twiitannut": RefX, "soittanut": RefPhone, "soittanu": RefPhone,
	}
	auxiliaries = map[string]bool{"olen": true, "oon": true, "olin": true, "olemme": true, "ollaan": true, "oltiin": true, "olimme": true}

	// Verbs that name their channel.
	channelVerbs = map[string]Channels{
		"meilasin": RefEmail, "mailasin": RefEmail, "sahkopostitin": RefEmail, "meilattiin": RefEmail, "meilasimme": RefEmail,
		"emailed": RefEmail, "e-mailed": RefEmail, "mailed": RefEmail,
		"mejlade": RefEmail, "mailade": RefEmail, "mejlat": RefEmail, "mailat": RefEmail,
		"twiittasin": RefX, "tviittasin": RefX, "twiittasimme": RefX, "tweeted": RefX, "twittrade": RefX, "tweetade": RefX,
		"dm'd": RefFacebook | RefX, "dmed": RefFacebook | RefX, "dm'ed": RefFacebook | RefX, "dm:d": RefFacebook | RefX,
		"dm:ed": RefFacebook | RefX, "pm'd": RefFacebook | RefX, "pmed": RefFacebook | RefX, "dmade": RefFacebook | RefX,
		"chattasin": RefWeb, "chatted": RefWeb,
		"soitimme": RefPhone, "soitettiin": RefPhone, "called": RefPhone, "phoned": RefPhone, "rang": RefPhone,
		"ringde": RefPhone, "ringt": RefPhone,
	}
	// Words right after "soitin" that make it the verb "I called".
	soitinNext = map[string]bool{
		"teille": true, "sinulle": true, "sinne": true, "asiakaspalveluun": true, "asiakaspalveluunne": true, "jo": true,
		"eilen": true, "tanaan": true, "aamulla": true, "illalla": true, "myos": true, "kerran": true, "monta": true,
		"useamman": true, "puhelimella": true, "numeroon": true, "teidan": true, "heti": true, "just": true, "juuri": true,
		"sille": true, "hanelle": true, "sinun": true, "taas": true, "uudestaan": true, "kahdesti": true,
	}
	// Another subject (en, sv) within two words before the verb, or a
	// passive auxiliary: not the author's own sending.
	otherSubjects = map[string]bool{
		"you": true, "he": true, "she": true, "they": true, "it": true, "someone": true, "somebody": true, "u": true,
		"was": true, "were": true, "been": true, "be": true, "is": true, "are": true, "get": true, "got": true,
		"du": true, "ni": true, "han": true, "hon": true, "de": true, "dom": true, "man": true, "blev": true, "har": false,
	}
	// Swedish subjects after the verb (V2 order: "igår skickade ni…").
	otherSubjectsAfter = map[string]bool{"du": true, "ni": true, "han": true, "hon": true, "de": true, "dom": true, "man": true}
	negations          = map[string]bool{
		"not": true, "never": true, "haven't": true, "havent": true, "didn't": true, "didnt": true, "hasn't": true,
		"hasnt": true, "don't": true, "dont": true, "inte": true, "aldrig": true, "ej": true, "inga": true, "inget": true,
	}
	// Possessives before a channel word or a message noun.
	possessives = map[string]bool{"my": true, "our": true, "mitt": true, "min": true, "mina": true, "vart": true}
	// Message nouns that, with a possessive, refer to a channel named
	// nearby ("my message on Facebook", "viestini facebookissa").
	messageNouns = map[string]bool{
		"message": true, "messages": true, "post": true, "comment": true, "review": true, "meddelande": true,
		"inlagg": true, "kommentar": true,
	}
	fiPossessiveNouns = map[string]bool{
		"viestini": true, "viestiani": true, "kommenttini": true, "kommenttiani": true, "postaukseni": true,
		"julkaisuni": true, "viestimme": true,
	}
	// After a channel word, words that make it an address, not a message.
	addressWords = map[string]bool{"address": true, "adress": true, "is": true, "on": true, "ar": true, "osoite": true, "osoitteeni": true}
)

// Word classes of the lexicon.
const (
	wordSend = iota + 1
	wordChannelVerb
	wordParticiple
	wordSoitin
	wordPossessive
	wordFiPossessiveNoun
)

type lexWord struct {
	class int
	c     Channels
}

// lexicon is the word lists above in one map, so that a word costs one
// lookup.
var lexicon = func() map[string]lexWord {
	m := map[string]lexWord{"soitin": {class: wordSoitin}}
	for w := range sendVerbs {
		m[w] = lexWord{class: wordSend}
	}
	for w, c := range channelVerbs {
		m[w] = lexWord{class: wordChannelVerb, c: c}
	}
	for w, c := range participles {
		m[w] = lexWord{class: wordParticiple, c: c}
	}
	for w := range possessives {
		m[w] = lexWord{class: wordPossessive}
	}
	for w := range fiPossessiveNouns {
		m[w] = lexWord{class: wordFiPossessiveNoun}
	}
	return m
}()

// channelWord returns the channels tok names, or 0.
func channelWord(tok string) Channels {
	if c, ok := channelExact[tok]; ok {
		return c
	}
	if strings.Contains(tok, "osoit") || strings.Contains(tok, "adress") || strings.Contains(tok, "address") {
		return 0 // sähköpostiosoite, e-postadress: an address
	}
	for _, p := range channelPrefixes {
		if strings.HasPrefix(tok, p.prefix) {
			return p.c
		}
	}
	return 0
}

// messageWord reports whether tok names a message sent on a channel ("my
// email", "twiittini", "my DM") rather than the service itself ("my
// Facebook", "puhelimeni"): only a message is a reference with a
// possessive.
func messageWord(tok string) bool {
	for _, p := range []string{"sahkopost", "s-post", "spost", "email", "e-mail", "meili", "maili", "mejl", "e-post",
		"epost", "mail", "dm", "pm", "yv", "tweet", "twiit", "tviit", "yksityisviest", "privaviest"} {
		if strings.HasPrefix(tok, p) {
			return true
		}
	}
	return false
}

// channelAt returns the channels named by toks[i], including a bare "x"
// after a preposition and excluding a channel word followed by "address".
func channelAt(toks []string, i int) Channels {
	tok := toks[i]
	if tok == "x" {
		if i > 0 && xPrepositions[toks[i-1]] {
			return RefX
		}
		return 0
	}
	c := channelWord(tok)
	if c != 0 && i+1 < len(toks) && (toks[i+1] == "address" || toks[i+1] == "adress" || strings.HasPrefix(toks[i+1], "osoit")) {
		return 0
	}
	return c
}

// sentenceRefs finds the references in one sentence's words.
func sentenceRefs(toks []string) Channels {
	var out Channels
	const near = 6
	channelsNear := func(i, before, after int) Channels {
		var c Channels
		for j := max(0, i-before); j <= min(len(toks)-1, i+after); j++ {
			if j != i {
				c |= channelAt(toks, j)
			}
		}
		return c
	}
	for i, tok := range toks {
		w, ok := lexicon[tok]
		if !ok {
			out |= fiPossessiveChannel(toks, i)
			continue
		}
		switch w.class {
		case wordSend:
			if ownSending(toks, i) {
				out |= channelsNear(i, near, near)
			}
		case wordChannelVerb:
			if ownSending(toks, i) {
				out |= w.c
			}
		case wordSoitin:
			if i+1 < len(toks) && soitinNext[toks[i+1]] || i+2 < len(toks) && soitinNext[toks[i+2]] && !strings.HasPrefix(toks[i+1], "ei") ||
				i > 0 && (toks[i-1] == "mina" || toks[i-1] == "ma") {
				out |= RefPhone
			}
		case wordParticiple:
			if auxBefore(toks, i) {
				c := w.c
				if c == 0 {
					c = channelsNear(i, near, near)
				}
				out |= c
			}
		case wordPossessive:
			for j := i + 1; j < len(toks) && j <= i+3; j++ {
				if c := channelAt(toks, j); c != 0 {
					if messageWord(toks[j]) && !(j+1 < len(toks) && addressWords[toks[j+1]]) {
						out |= c
					}
					break
				}
				if messageNouns[toks[j]] {
					out |= channelsNear(j, 0, 4)
					break
				}
			}
		case wordFiPossessiveNoun:
			out |= channelsNear(i, 2, 4)
		}
	}
	return out
}

// auxBefore reports a first-person auxiliary within two words before i.
func auxBefore(toks []string, i int) bool {
	for j := max(0, i-2); j < i; j++ {
		if auxiliaries[toks[j]] {
			return true
		}
	}
	return false
}

// ownSending reports whether the verb at i has no other subject, no
// passive auxiliary and no negation before it (and, in Swedish word
// order, no other subject right after it).
func ownSending(toks []string, i int) bool {
	for j := max(0, i-3); j < i; j++ {
		if negations[toks[j]] || strings.HasSuffix(toks[j], "n't") {
			return false
		}
	}
	for j := max(0, i-2); j < i; j++ {
		if otherSubjects[toks[j]] {
			return false
		}
	}
	if i+1 < len(toks) && otherSubjectsAfter[toks[i+1]] {
		return false
	}
	return true
}

// fiPossessiveChannel recognizes a Finnish channel word with the
// first-person possessive suffix: "sähköpostini", "meiliäni", "twiittini"
// (but not the illative "sähköpostiini", "to my email", and not "…ni on",
// "my email is").
func fiPossessiveChannel(toks []string, i int) Channels {
	tok := toks[i]
	if !strings.HasSuffix(tok, "ni") || strings.HasSuffix(tok, "iini") || len(tok) < 5 {
		return 0
	}
	c := channelWord(tok)
	if c == 0 || !messageWord(tok) {
		return 0
	}
	if i+1 < len(toks) && addressWords[toks[i+1]] {
		return 0
	}
	return c
}
