// Package benchtext holds the messages the classification benchmarks
// (packages rules and classify) measure with, so that their results speak
// of the same text.
package benchtext

import "strings"

// Text300 is a Finnish customer message of about 300 bytes.
const Text300 = "Hei! Tilasin viime viikolla uuden puhelimen verkkokaupastanne, mutta paketti ei ole " +
	"vieläkään tullut, vaikka seurannan mukaan se lähti jo maanantaina. Asiakaspalvelu ei vastaa " +
	"puhelimeen. Voitteko tarkistaa, missä lähetys on? Tilausnumero 4481123. Kiitos, Maija"

// Text3K returns an English mail with a quoted Finnish auto-reply, 3,000
// bytes.
func Text3K() string {
	quoted := "\n> Hyvä asiakas, kiitos yhteydenotostasi. Käsittelemme viestisi mahdollisimman pian. " +
		"Palvelemme arkisin kello 8-18. Voit myös tarkistaa tilauksesi tilan verkkopalvelussamme, " +
		"jossa näet toimitusajan ja seurantatiedot. Ystävällisin terveisin, asiakaspalvelu\n"
	body := "Hello, I am writing again because my previous messages were not answered. I ordered two " +
		"items on the 3rd of March and only one of them arrived. The tracking page says the second " +
		"parcel was delivered to a pick-up point, but the pick-up point says they never received it. " +
		"I have now been waiting for almost three weeks and I would like to know whether you can send " +
		"a replacement or return my money. I have attached the receipt and a screenshot of the tracking " +
		"page. Please note that I am travelling next week, so email is the best way to reach me.\n"
	var b strings.Builder
	for b.Len() < 3000 {
		b.WriteString(body)
		b.WriteString(quoted)
	}
	return b.String()[:3000]
}
