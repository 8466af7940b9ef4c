package email

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// sentMail builds a mail as the company's mail program keeps it in Sent:
// From the support address, To the customer, unless headers say otherwise.
func sentMail(headers, body string) []byte {
	h := headers + "\n"
	if !strings.Contains("\n"+h, "\nFrom:") {
		h = "From: Asiakaspalvelu <Asiakaspalvelu@yritys.fi>\n" + h
	}
	if !strings.Contains("\n"+h, "\nTo:") {
		h = "To: Matti <matti@example.fi>\n" + h
	}
	return []byte(strings.ReplaceAll(h+"\n"+body, "\n", "\r\n"))
}

func TestSentResponse(t *testing.T) {
	own := newOwnAddresses([]string{"asiakaspalvelu@yritys.fi", "@teams.yritys.fi"})
	arrived := time.Date(2014, 2, 3, 13, 0, 5, 0, time.UTC)
	date := "Mon, 3 Feb 2014 15:00:00 +0200" // 13:00 UTC
	dated := time.Date(2014, 2, 3, 13, 0, 0, 0, time.UTC)
	// reply is the response the support address sent, as Message-ID id,
	// to the mail parent in thread, dated at.
	reply := func(id, parent, thread string, at time.Time) *message.Response {
		return &message.Response{ID: "email:" + id, SourceID: id, InReplyTo: "email:" + parent, ThreadID: thread,
			By: "asiakaspalvelu@yritys.fi", At: at}
	}
	tests := []struct {
		name    string
		headers string
		want    *message.Response // nil: skipped
		skip    string
	}{
		{
			name:    "reply to a customer's first mail",
			headers: "Message-ID: <r1@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nReferences: <c1@example.fi>\nDate: " + date,
			want:    reply("r1@yritys.fi", "c1@example.fi", "c1@example.fi", dated),
		},
		{
			name:    "reply to a reply links its direct parent, in the thread of the first mail",
			headers: "Message-ID: <r2@yritys.fi>\nIn-Reply-To: <c2@example.fi>\nReferences: <c1@example.fi> <r1@yritys.fi>\n <c2@example.fi>\nDate: " + date,
			want:    reply("r2@yritys.fi", "c2@example.fi", "c1@example.fi", dated),
		},
		{
			name:    "References only: the last entry is the parent",
			headers: "Message-ID: <r3@yritys.fi>\nReferences: <c1@example.fi> <c2@example.fi>\nDate: " + date,
			want:    reply("r3@yritys.fi", "c2@example.fi", "c1@example.fi", dated),
		},
		{
			name:    "implausible Date: the arrival time",
			headers: "Message-ID: <r4@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nDate: Thu, 1 Jan 1970 00:00:00 +0000",
			want:    reply("r4@yritys.fi", "c1@example.fi", "c1@example.fi", arrived),
		},
		{
			name:    "a long Message-ID is hashed as for envelopes",
			headers: "Message-ID: <" + strings.Repeat("x", 300) + "@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nDate: " + date,
			want:    reply(idFromMessageID(strings.Repeat("x", 300)+"@yritys.fi"), "c1@example.fi", "c1@example.fi", dated),
		},
		{
			name:    "a new conversation",
			headers: "Message-ID: <new@yritys.fi>\nSubject: Tarjous\nDate: " + date,
			skip:    skipNoReference,
		},
		{
			name:    "referring only to itself",
			headers: "Message-ID: <self@yritys.fi>\nIn-Reply-To: <self@yritys.fi>\nDate: " + date,
			skip:    skipNoReference,
		},
		{
			name:    "an automatic acknowledgement",
			headers: "Message-ID: <ack@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nAuto-Submitted: auto-replied\nDate: " + date,
			skip:    skipAutoReply,
		},
		{
			name:    "an out-of-office notice",
			headers: "Message-ID: <oof@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nSubject: Automaattinen vastaus: Tilaus\nDate: " + date,
			skip:    skipAutoReply,
		},
		{
			name:    "forwarded to a team",
			headers: "Message-ID: <fw@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nTo: laskutus@teams.yritys.fi\nCc: asiakaspalvelu@yritys.fi\nDate: " + date,
			skip:    skipInternal,
		},
		{
			name:    "a team in Cc, the customer in To",
			headers: "Message-ID: <cc@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nCc: laskutus@teams.yritys.fi\nDate: " + date,
			want:    reply("cc@yritys.fi", "c1@example.fi", "c1@example.fi", dated),
		},
		{
			name:    "the customer in Bcc",
			headers: "Message-ID: <bcc@yritys.fi>\nIn-Reply-To: <c1@example.fi>\nTo: laskutus@teams.yritys.fi\nBcc: matti@example.fi\nDate: " + date,
			want:    reply("bcc@yritys.fi", "c1@example.fi", "c1@example.fi", dated),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sentHeader(sentMail(tt.headers, "Kiitos viestistä.\n"), readPolicy{})
			r, skip, detail := sentResponse(m, own, arrived, testNow)
			if tt.want == nil {
				if r != nil || skip != tt.skip || detail == "" {
					t.Fatalf("got %+v, skip %q (%s); want skip %q with a detail", r, skip, detail, tt.skip)
				}
				return
			}
			if r == nil {
				t.Fatalf("skipped: %s (%s)", skip, detail)
			}
			want := *tt.want
			want.Version, want.Channel, want.Kind, want.Status = message.SchemaVersion, "email", "email", message.StatusResponded
			if *r != want {
				t.Fatalf("response\n got %+v\nwant %+v", *r, want)
			}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSentResponseMatchesEnvelopes: the response to a customer's mail names
// it by the envelope's id and joins its thread, also when the Message-ID is
// hashed into the id.
func TestSentResponseMatchesEnvelopes(t *testing.T) {
	own := newOwnAddresses([]string{"asiakaspalvelu@yritys.fi"})
	o := origin{Account: "a", Mailbox: "INBOX", UID: 1, UIDValidity: 1}
	for _, mid := range []string{"c1@example.fi", "ääkkönen-1@example.fi", strings.Repeat("y", 250) + "@example.fi"} {
		customer := parseMail([]byte("From: matti@example.fi\r\nMessage-ID: <"+mid+">\r\nSubject: Tilaus\r\n\r\nMissä paketti?\r\n"), false, readPolicy{})
		env := customer.envelope(o, testNow)
		reply := sentHeader(sentMail("Message-ID: <r@yritys.fi>\nIn-Reply-To: <"+mid+">\nReferences: <"+mid+">", "ok"), readPolicy{})
		r, skip, _ := sentResponse(reply, own, testNow, testNow)
		if r == nil || r.InReplyTo != env.ID || r.ThreadID != env.ThreadID {
			t.Fatalf("response %+v (skip %q) does not match envelope %s in thread %s", r, skip, env.ID, env.ThreadID)
		}
	}
}
