package rules

import "strings"

// langUnknown is the detected language when the text gives too little
// evidence for Finnish, English or Swedish.
const langUnknown = -1

// maxDetectWords bounds how many words detectLang looks at: the opening of
// a message says which language it is in, and a long one costs no more.
const maxDetectWords = 60

// detectLang guesses whether the folded tokens are Finnish, English or
// Swedish, from function words and spelling (ä/ö, å, Finnish case endings
// and long vowels, English letters and suffixes, Swedish suffixes). It
// returns langFi, langEn, langSv or langUnknown; it never allocates.
// Scores are in half points: a strong clue is 2, a weak one 1. A language
// wins with at least 3 and more than twice each other's score.
func detectLang(f *folder) int {
	var score [numStemLangs]int
	words := 0
	for i := range f.toks {
		if !f.toks[i].letters {
			continue
		}
		if words++; words > maxDetectWords {
			break
		}
		w := string(f.token(i)) // short-lived: kept on the stack
		if finnishWord(w) {
			score[langFi] += 2
		}
		if englishWord(w) {
			score[langEn] += 2
		}
		if swedishWord(w) {
			score[langSv] += 2
		}
		if strings.Contains(w, "ä") || strings.Contains(w, "ö") {
			// Both Finnish and Swedish letters, far more frequent in
			// Finnish: a Finnish clue unless the word is Swedish.
			if !swedishWord(w) {
				score[langFi] += 2
			}
			score[langSv]++
		}
		if strings.HasPrefix(w, "hj") || strings.HasPrefix(w, "sj") || strings.HasPrefix(w, "tj") || strings.HasPrefix(w, "stj") {
			score[langSv]++
		}
		if strings.Contains(w, "å") {
			score[langSv] += 2
		}
		if len(w) >= 5 && finnishEnding(w) {
			score[langFi]++
		}
		if hasDoubleVowelFi(w) {
			score[langFi]++
		}
		if len(w) >= 5 && englishEnding(w) {
			score[langEn]++
		}
		if len(w) >= 5 && swedishEnding(w) {
			score[langSv]++
		}
		if englishLetters(w) {
			score[langEn]++
		}
		if l := leader(&score, 12, 3); l != langUnknown {
			break // decided; the rest cannot change the outcome much
		}
	}
	return leader(&score, 3, 2)
}

// leader returns the language whose score is at least min and more than
// factor times every other's, or langUnknown.
func leader(score *[numStemLangs]int, min, factor int) int {
	best := 0
	for l := range numStemLangs {
		if score[l] > score[best] {
			best = l
		}
	}
	if score[best] < min {
		return langUnknown
	}
	for l := range numStemLangs {
		if l != best && score[best] <= factor*score[l] {
			return langUnknown
		}
	}
	return best
}

// swedishEnding reports Swedish definite plurals and common suffixes.
func swedishEnding(w string) bool {
	for _, e := range [...]string{"arna", "erna", "orna", "ningen", "heten", "ligt", "igt", "ande", "ende"} {
		if strings.HasSuffix(w, e) {
			return true
		}
	}
	return false
}

// swedishWord reports common Swedish function and chat words.
func swedishWord(w string) bool {
	switch w {
	case "och", "att", "det", "är", "jag", "du", "vi", "hon", "som", "ett", "på", "för", "med",
		"till", "av", "om", "inte", "har", "hade", "kan", "ska", "skulle", "vill", "när", "hur", "vad",
		"varför", "min", "mitt", "mina", "din", "ditt", "dina", "vår", "ert", "era", "hej", "tack",
		"också", "eller", "så", "här", "där", "nu", "redan", "fortfarande", "ingen", "inget", "inga",
		"någon", "något", "mig", "dig", "oss", "från", "efter", "igen", "fick", "fått", "bara", "kunde",
		"blev", "mycket", "fel", "hälsningar", "vänliga", "mvh", "tyvärr", "ännu", "aldrig", "varit":
		return true
	}
	return false
}

func finnishEnding(w string) bool {
	var ends []string
	switch w[len(w)-1] {
	case 'a':
		ends = []string{"ssa", "sta", "lla", "lta", "ja"}
	case 0xA4: // ä
		ends = []string{"ssä", "stä", "llä", "ltä", "jä"}
	case 'e':
		ends = []string{"lle", "mme", "tte"}
	case 'i':
		ends = []string{"ksi", "ni"}
	case 'n':
		ends = []string{"nen", "kin", "han", "hän", "iin", "aan", "een"}
	case 'o':
		ends = []string{"ko"}
	case 0xB6: // ö
		ends = []string{"kö"}
	}
	for _, e := range ends {
		if strings.HasSuffix(w, e) {
			return true
		}
	}
	return false
}

func englishEnding(w string) bool {
	for _, e := range [...]string{"ing", "tion", "ed", "ly", "ness", "ment", "ous", "ful"} {
		if strings.HasSuffix(w, e) {
			return true
		}
	}
	return false
}

// hasDoubleVowelFi reports long vowels and diphthongs typical of Finnish.
func hasDoubleVowelFi(w string) bool {
	for i := 0; i+1 < len(w); i++ {
		switch w[i : i+2] {
		case "aa", "ii", "uu", "yy", "ei", "uo", "ie":
			return true
		}
	}
	return strings.Contains(w, "ää") || strings.Contains(w, "öö") || strings.Contains(w, "yö")
}

// englishLetters reports letters rare in Finnish words (c, q, w, x, z) or th.
func englishLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case 'c', 'q', 'w', 'x', 'z':
			return true
		case 't':
			if i+1 < len(w) && w[i+1] == 'h' {
				return true
			}
		}
	}
	return false
}

// finnishWord reports common Finnish function and chat words.
func finnishWord(w string) bool {
	switch w {
	case "ja", "on", "ei", "se", "että", "ole", "oli", "olen", "olet", "ovat", "ollut", "olisi",
		"mutta", "kun", "tai", "jos", "niin", "kuin", "koska", "myös", "vain", "vielä", "jo", "nyt",
		"minä", "mä", "mun", "mulla", "mulle", "minun", "minulla", "minulle", "sinä", "sä", "te", "me",
		"teidän", "teillä", "teille", "meidän", "hän", "he", "tämä", "tää", "tätä", "sitä", "siitä",
		"mikä", "miksi", "miten", "missä", "milloin", "kuka", "mitä", "mitään", "mistä", "mihin",
		"kiitos", "kiitoksia", "hei", "moi", "moikka", "terve", "tervehdys", "ystävällisin", "terveisin",
		"voi", "voisitte", "voitteko", "pitää", "saa", "saan", "sain", "tuli", "tullut", "ehkä",
		"yhtään", "kaikki", "tänään", "eilen", "huomenna", "ennen", "jälkeen", "kanssa", "ilman",
		"edelleen", "vaan", "sekä", "eikä", "enää", "aina", "koskaan", "paljon", "vähän", "hyvä", "huono":
		return true
	}
	return false
}

// englishWord reports common English function and chat words.
func englishWord(w string) bool {
	switch w {
	case "the", "and", "is", "are", "was", "were", "be", "been", "to", "of", "in", "it", "my", "i",
		"you", "your", "not", "no", "for", "with", "this", "that", "have", "has", "had", "can", "please",
		"thanks", "thank", "hi", "hello", "dear", "what", "why", "when", "where", "how", "who", "me", "we",
		"our", "they", "their", "there", "from", "at", "by", "an", "a", "do", "does", "did", "don",
		"will", "would", "should", "could", "just", "still", "yet", "but", "or", "if", "so", "about",
		"any", "some", "all", "get", "got", "am", "its", "it's", "again", "since", "never", "regards":
		return true
	}
	return false
}
