package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// topic is one kind of customer message in two languages.
type topic struct {
	weight   int
	subjects [2][]string // fi, en
	lines    [2][]string // fi, en: the first sentence says what it is about
}

// filler is the sentences that pad a text to its size, in Finnish and
// English; "%d" becomes a random number.
func filler() [2][]string {
	return [2][]string{
		{"Asiakasnumeroni on %d.", "Tilausnumero on %d.", "Kiitos etukäteen nopeasta vastauksesta.", "Olen ollut asiakkaananne jo monta vuotta.",
			"Voitte soittaa minulle iltapäivällä.", "Liitin kuvakaappauksen viestiin.", "Terveisin, Aino Virtanen", "Odotan vastaustanne."},
		{"My customer number is %d.", "The order number is %d.", "Thanks in advance for a quick reply.", "I have been your customer for years.",
			"You can call me in the afternoon.", "I attached a screenshot.", "Best regards, Emma Smith", "Looking forward to your answer."},
	}
}

// topics are billing, logistics, product and general questions (no route
// of the shipped rules matches those: the default team).
func topics() []topic {
	return []topic{
		{weight: 35,
			subjects: [2][]string{{"Lasku", "Veloitus", "Hyvityspyyntö"}, {"Invoice", "Double charge", "Refund"}},
			lines: [2][]string{
				{"Hei, minulta on veloitettu kahdesti sama kuukausimaksu.", "Eräpäivä on mennyt, vaikka maksu lähti tililtäni ajallaan.",
					"Voisitteko tarkistaa laskutuksen? Summa on isompi kuin sopimuksessa.", "Haluaisin hyvityksen, koska palvelu ei ollut käytössä koko kuukautta.",
					"Sain maksumuistutuksen, vaikka maksoin laskun tilisiirrolla.", "Sähkölaskussani on väärä osoite."},
				{"Hi, I was charged twice for the same order this month.", "My invoice shows the wrong amount, could you check the billing?",
					"I paid by card but a payment reminder still arrived.", "Please refund the extra charge on my last bill.",
					"The direct debit failed although there is money on my account.", "Why is the due date earlier than before?"},
			}},
		{weight: 30,
			subjects: [2][]string{{"Paketti", "Toimitus myöhässä", "Seurantakoodi"}, {"Parcel", "Late delivery", "Tracking"}},
			lines: [2][]string{
				{"Pakettini ei ole vieläkään tullut, vaikka seuranta näyttää toimitetulta.", "Lähetys on ollut noutopisteessä viikon, enkä saanut ilmoitusta.",
					"Toimitus on myöhässä jo kolme päivää.", "Posti sanoo, että paketti on kadonnut matkalla.",
					"Seurantakoodi ei toimi kuljetusyhtiön sivulla.", "Pakettiautomaatti oli täynnä, mihin lähetykseni vietiin?"},
				{"My parcel has not arrived and the tracking page has not updated since Monday.", "The courier left the package at the wrong pick-up point.",
					"Shipping was supposed to take two days, the delivery is now a week late.", "The shipment is marked delivered but I never got it.",
					"Can I change the delivery address of my package?", "The tracking number you sent does not work."},
			}},
		{weight: 25,
			subjects: [2][]string{{"Vika", "Sovellus kaatuu", "Kehitysehdotus"}, {"Fault", "App crashes", "Feature request"}},
			lines: [2][]string{
				{"Sovellus kaatuu aina, kun yritän kirjautua sisään.", "Laite lakkasi toimimasta päivityksen jälkeen ja näyttää virheilmoitusta.",
					"Toivoisin, että sovellukseen tulisi tumma tila.", "Latausjohto on viallinen, liitin on rikki.",
					"Kamera ei toimi videopuhelussa.", "Olisi kiva, jos raportit saisi tallennettua taulukkona."},
				{"The app keeps crashing after the latest update, it is not working at all.", "The device stopped working and shows an error message on startup.",
					"It would be nice to export reports as CSV, please add it.", "The charger is faulty, the connector is broken.",
					"Login fails with an unknown error, looks like a bug.", "The screen flickers, I think it is a defect."},
			}},
		{weight: 10,
			subjects: [2][]string{{"Kysymys", "Aukioloajat"}, {"Question", "Opening hours"}},
			lines: [2][]string{
				{"Mitkä ovat asiakaspalvelun aukioloajat juhannuksena?", "Miten voin vaihtaa sähköpostiosoitteeni omiin tietoihini?",
					"Onko teillä myymälää Tampereella?", "Kenelle voin antaa palautetta asiakaspalvelusta?"},
				{"What are your opening hours during the holidays?", "How do I change the email address in my profile?",
					"Do you have a store in Tampere?", "Who can I talk to about your customer service?"},
			}},
	}
}

// Corpus generates n customer messages deterministically (the same n and
// size give the same envelopes): billing, logistics, product and general
// questions in Finnish and English, on email, the web form, Facebook and
// X, in threads of up to three messages on one channel, topic and
// language, each text about size bytes. ReceivedAt is left for the
// publisher to stamp.
func Corpus(n, size int) []*message.Envelope {
	rng := rand.New(rand.NewPCG(20240601, 7))
	all, pad := topics(), filler()
	totalWeight := 0
	for _, t := range all {
		totalWeight += t.weight
	}
	base := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	envs := make([]*message.Envelope, 0, n)
	var (
		cur     *topic
		lang    int
		channel string
		thread  string
	)
	for i := range n {
		if i%3 == 0 {
			w := rng.IntN(totalWeight)
			for j := range all {
				if w < all[j].weight {
					cur = &all[j]
					break
				}
				w -= all[j].weight
			}
			lang = rng.IntN(2)
			channel = [...]string{"email", "email", "web", "facebook", "facebook", "x"}[rng.IntN(6)]
			thread = fmt.Sprintf("thread-%d", i/3)
		}
		var text strings.Builder
		text.WriteString(cur.lines[lang][rng.IntN(len(cur.lines[lang]))])
		for text.Len() < size {
			text.WriteByte(' ')
			if rng.IntN(2) == 0 {
				text.WriteString(cur.lines[lang][rng.IntN(len(cur.lines[lang]))])
				continue
			}
			f := pad[lang][rng.IntN(len(pad[lang]))]
			if strings.Contains(f, "%d") {
				f = fmt.Sprintf(f, 100000+rng.IntN(900000))
			}
			text.WriteString(f)
		}
		sourceID := fmt.Sprintf("bench-%d", i)
		env := &message.Envelope{
			Version:   message.SchemaVersion,
			ID:        message.MakeID(channel, sourceID),
			Channel:   channel,
			SourceID:  sourceID,
			Text:      text.String(),
			CreatedAt: base.Add(time.Duration(i) * time.Second),
		}
		customer := rng.IntN(5000)
		switch channel {
		case "email":
			env.Kind, env.ThreadID = message.KindEmail, thread
			env.Subject = cur.subjects[lang][rng.IntN(len(cur.subjects[lang]))]
			env.Author = message.Author{Name: fmt.Sprintf("Customer %d", customer), Email: fmt.Sprintf("customer%d@example.com", customer)}
		case "web":
			env.Kind = message.KindWeb
			env.Author = message.Author{Email: fmt.Sprintf("customer%d@example.com", customer)}
		case "facebook":
			env.Kind, env.ThreadID = message.KindComment, thread
			env.Author = message.Author{ID: fmt.Sprint(1000000 + customer), Name: fmt.Sprintf("Customer %d", customer)}
			env.Metadata = map[string]string{"page_id": "100200300", "object": "comment"}
		case "x":
			env.Kind, env.ThreadID = message.KindMention, thread
			env.Author = message.Author{ID: fmt.Sprint(2000000 + customer), Handle: fmt.Sprintf("customer%d", customer)}
			env.Lang = [...]string{"fi", "en"}[lang]
		}
		envs = append(envs, env)
	}
	return envs
}
