package email

import (
	"strings"
	"testing"
)

// rawMail builds a small mail from header lines ("\n"-separated) and a body.
func rawMail(headers, body string) []byte {
	h := "To: tuki@yritys.fi\nMessage-ID: <x1@example.fi>\nDate: Mon, 3 Feb 2014 10:00:00 +0200\n"
	if !strings.HasPrefix(headers, "From:") && !strings.Contains(headers, "\nFrom:") {
		h = "From: Asiakas <asiakas@example.fi>\n" + h
	}
	if headers != "" {
		h += headers + "\n"
	}
	return []byte(strings.ReplaceAll(h+"\n"+body, "\n", "\r\n"))
}

func TestFilter(t *testing.T) {
	own := newOwnAddresses([]string{"switchboard@yritys.fi", "Laskutus@Yritys.fi", "@tiimit.yritys.fi"})
	tests := []struct {
		name, headers, subjectLine string
		ingestLists                bool
		want                       string
	}{
		{name: "customer mail", want: ""},
		{name: "own address", headers: "From: Switchboard <switchboard@yritys.fi>", want: dropOwnAddress},
		{name: "own address case-insensitive", headers: "From: laskutus@YRITYS.fi", want: dropOwnAddress},
		{name: "team domain", headers: "From: Myynti <myynti@tiimit.yritys.fi>", want: dropOwnAddress},
		{name: "own sender on behalf", headers: "Sender: switchboard@yritys.fi", want: dropOwnAddress},
		{name: "other domain ending alike", headers: "From: a@muut-tiimit.yritys.fi.example", want: ""},
		{name: "mailer-daemon", headers: "From: MAILER-DAEMON@mx.example.fi", want: dropBounce},
		{name: "mailer-daemon without domain", headers: "From: MAILER-DAEMON (Mail Delivery System)", want: dropBounce},
		{name: "postmaster", headers: "From: Postmaster <postmaster@example.fi>", want: dropBounce},
		{name: "multipart/report", headers: "Content-Type: multipart/report; report-type=disposition-notification; boundary=b", want: dropBounce},
		{name: "auto-submitted auto-replied", headers: "Auto-Submitted: auto-replied (vacation)", want: dropAutoReply},
		{name: "auto-submitted auto-generated", headers: "Auto-Submitted: auto-generated", want: dropAutoReply},
		{name: "auto-submitted no", headers: "Auto-Submitted: no", want: ""},
		{name: "x-autoreply", headers: "X-Autoreply: yes", want: dropAutoReply},
		{name: "x-autorespond", headers: "X-Autorespond: Poissa toimistolta", want: dropAutoReply},
		{name: "precedence auto_reply", headers: "Precedence: auto_reply", want: dropAutoReply},
		{name: "null return path", headers: "Return-Path: <>", want: dropAutoReply},
		{name: "automaattinen vastaus", subjectLine: "Automaattinen vastaus: Tilauksenne", want: dropAutoReply},
		{name: "encoded automaattinen vastaus", subjectLine: "=?utf-8?Q?Automaattinen_vastaus:_Tilaus?=", want: dropAutoReply},
		{name: "poissa", subjectLine: "Poissa", want: dropAutoReply},
		{name: "poissa with dates", subjectLine: "Poissa 1.7.-31.7.", want: dropAutoReply},
		{name: "poissa colon", subjectLine: "Poissa: Re: Lasku", want: dropAutoReply},
		{name: "poissaolo", subjectLine: "Poissaoloilmoitus", want: dropAutoReply},
		{name: "out of office", subjectLine: "Out of Office: Your order", want: dropAutoReply},
		{name: "automatic reply", subjectLine: "Automatic reply: Invoice", want: dropAutoReply},
		{name: "poissa later in the subject", subjectLine: "Olin poissa kun paketti tuli", want: ""},
		{name: "reply about an out of office", subjectLine: "Re: Your out of office message", want: ""},
		{name: "list-id", headers: "List-Id: Uutiset <uutiset.example.fi>", want: dropList},
		{name: "precedence bulk", headers: "Precedence: bulk", want: dropList},
		{name: "precedence list", headers: "Precedence: list", want: dropList},
		{name: "precedence junk", headers: "Precedence: junk", want: dropList},
		{name: "list mail ingested when configured", headers: "List-Id: <uutiset.example.fi>\nPrecedence: bulk", ingestLists: true, want: ""},
		{name: "bounce beats list", headers: "From: mailer-daemon@example.fi\nList-Id: <x>", want: dropBounce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := tt.headers
			if tt.subjectLine != "" {
				headers = strings.TrimPrefix(headers+"\nSubject: "+tt.subjectLine, "\n")
			}
			m := parseMail(rawMail(headers, "teksti"), false, readPolicy{})
			f := mailFilter{own: own, ingestLists: tt.ingestLists}
			got, detail := f.drop(m)
			if got != tt.want {
				t.Fatalf("drop = %q (%s), want %q", got, detail, tt.want)
			}
			if got != "" && detail == "" {
				t.Fatal("a drop without a detail for the log")
			}
		})
	}
}
