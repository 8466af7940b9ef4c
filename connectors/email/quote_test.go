package email

import "testing"

func TestSplitReply(t *testing.T) {
	tests := []struct {
		name, body, new, sig string
		quoted               bool
	}{
		{
			name: "no quote", body: "Hei,\n\nmissä tilaukseni on?\n\nMatti",
			new: "Hei,\n\nmissä tilaukseni on?\n\nMatti",
		},
		{
			name: "gmail english", body: "Thanks!\n\nOn Mon, Feb 3, 2014 at 10:15 AM Support <s@x.example> wrote:\n> old text",
			new: "Thanks!", quoted: true,
		},
		{
			name: "gmail english wrapped attribution", body: "Thanks!\n\nOn Mon, Feb 3, 2014 at 10:15 AM Support Team Of Example Company <\nsupport@x.example> wrote:\n\n> old text",
			new: "Thanks!", quoted: true,
		},
		{
			name: "gmail finnish", body: "Kiitos!\n\nma 3. helmik. 2014 klo 10.15 Asiakaspalvelu <a@x.example> kirjoitti:\n> vanha",
			new: "Kiitos!", quoted: true,
		},
		{
			name: "apple mail finnish", body: "Selvä.\n\n> Matti <m@x.example> kirjoitti 3.2.2014 kello 10.15:\n> \n> vanha",
			new: "Selvä.", quoted: true,
		},
		{
			name: "apple mail finnish unquoted attribution", body: "Selvä.\n\nMatti Meikäläinen <m@x.example> kirjoitti 3.2.2014 kello 10.15:\n\n> vanha",
			new: "Selvä.", quoted: true,
		},
		{
			name: "outlook finnish block", body: "Korjatkaa lasku.\n\nLähettäjä: Asiakaspalvelu <a@x.example>\nLähetetty: maanantai 3. helmikuuta 2014 10.15\nVastaanottaja: Matti\nAihe: Lasku\n\nHyvä asiakas",
			new: "Korjatkaa lasku.", quoted: true,
		},
		{
			name: "outlook english block", body: "Please fix it.\n\nFrom: Support <s@x.example>\nSent: Monday, February 3, 2014 10:15 AM\nTo: John\nSubject: Invoice\n\nDear customer",
			new: "Please fix it.", quoted: true,
		},
		{
			name: "outlook bold markdown block", body: "Ok.\n\n*From:* Support <s@x.example>\n*Sent:* Monday\n\nold",
			new: "Ok.", quoted: true,
		},
		{
			name: "outlook underscore line", body: "Ok.\n\n________________________________\nFrom: Support\nold",
			new: "Ok.", quoted: true,
		},
		{
			name: "original message separator", body: "Ok.\n\n-----Original Message-----\nFrom: a\nold",
			new: "Ok.", quoted: true,
		},
		{
			name: "alkuperäinen viesti separator", body: "Ok.\n\n-----Alkuperäinen viesti-----\nLähettäjä: a\nvanha",
			new: "Ok.", quoted: true,
		},
		{
			name: "signature delimiter", body: "Hei,\n\nasia.\n\n-- \nMatti Meikäläinen\np. 040 123 4567",
			new: "Hei,\n\nasia.", sig: "Matti Meikäläinen\np. 040 123 4567",
		},
		{
			name: "signature then quote", body: "Asia.\n\n--\nMatti\n\nOn Mon, 3 Feb 2014 Support <s@x.example> wrote:\n> old",
			new: "Asia.", sig: "Matti", quoted: true,
		},
		{
			name: "mobile signature finnish", body: "Soitan huomenna.\n\nLähetetty iPhonesta", new: "Soitan huomenna.", sig: "Lähetetty iPhonesta",
		},
		{
			name: "mobile signature english", body: "Call me.\n\nSent from my Galaxy", new: "Call me.", sig: "Sent from my Galaxy",
		},
		{
			name: "a sentence starting like a footer is text", body: "Hi,\nSent from my office computer because the laptop broke.\nThanks",
			new: "Hi,\nSent from my office computer because the laptop broke.\nThanks",
		},
		{
			name: "interleaved reply keeps own lines", body: "> Mikä on tilausnumero?\n12345\n> Entä osoite?\nKatu 1",
			new: "12345\nKatu 1", quoted: true,
		},
		{
			name: "wrote in the text is not a quote header", body: "As I wrote:\nthe box is broken",
			new: "As I wrote:\nthe box is broken",
		},
		{
			name: "from line without sent line is text", body: "From: the Helsinki store\nI bought a sofa",
			new: "From: the Helsinki store\nI bought a sofa",
		},
		{
			name: "only a quote", body: "On Mon, 3 Feb 2014 a <a@x.example> wrote:\n> old", new: "", quoted: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := splitReply(tt.body, maxText)
			if r.New != tt.new || r.Signature != tt.sig || r.Quoted != tt.quoted {
				t.Fatalf("splitReply =\n new %q\n sig %q\n quoted %v\nwant\n new %q\n sig %q\n quoted %v", r.New, r.Signature, r.Quoted, tt.new, tt.sig, tt.quoted)
			}
		})
	}
}
