package email

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2014, 3, 20, 12, 0, 0, 0, time.UTC)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFixtures reads every real-world shaped mail in testdata and checks
// the envelope (or the drop) it becomes.
func TestFixtures(t *testing.T) {
	filter := mailFilter{own: newOwnAddresses([]string{"asiakaspalvelu@yritys.fi", "@teams.yritys.fi"})}
	tests := []struct {
		file string
		drop string
		// Checks on the envelope of a kept mail.
		subject, authorName, authorEmail string
		textHas, textHasNot              []string
		fullHas                          []string
		thread, parent, lang, source     string
		meta                             map[string]string
		sourceIDPrefix                   string
		attachments                      []attachment
		problemsHave                     []string
	}{
		{
			file: "outlook_fi_reply.eml", subject: "VS: Tilauksenne 12345",
			authorName: "Matti Meikäläinen", authorEmail: "matti.meikalainen@example.fi",
			textHas:    []string{"Hei,\n\nlaskussa 12345 on virhe", "Ystävällisin terveisin\nMatti Meikäläinen"},
			textHasNot: []string{"Hyvä asiakas", "Lähettäjä", "____"},
			fullHas:    []string{"Lähettäjä: Asiakaspalvelu", "Hyvä asiakas,"},
			thread:     "20140203081500.4242.1@yritys.fi", parent: "20140203081500.4242.1@yritys.fi",
			lang:        "fi-FI",
			meta:        map[string]string{"text_source": "text/plain", "quoted": "true", "flags": "", "to": "Asiakaspalvelu <asiakaspalvelu@yritys.fi>"},
			attachments: nil,
		},
		{
			file: "gmail_reply.eml", subject: "Re: Your replacement part",
			authorName: "John Smith", authorEmail: "john.smith@gmail.com",
			textHas:    []string{"Hi,\n\nThe replacement part still hasn't arrived. Could you check the tracking\nnumber for order 88812?\n\nThanks,\nJohn"},
			textHasNot: []string{"John Smith", "shipped today", "wrote:"},
			fullHas:    []string{"> Your replacement part was shipped today."},
			thread:     "CAF=first-root-id@mail.company.example", parent: "52EF6A2B.5010304@company.example",
			meta: map[string]string{"signature": "John Smith\nAcme Ltd | +44 20 7946 0958", "quoted": "true", "flags": ""},
		},
		{
			file: "apple_mail_qp.eml", subject: "Re: Tilauksesi on lähtenyt",
			authorName: "Liisa Virtanen", authorEmail: "liisa.virtanen@icloud.example",
			textHas:    []string{"toinen käsinoja on rikki", "Miten toimitaan – vaihdetaanko koko sohva", "Terkuin Liisa"},
			textHasNot: []string{"Lähetetty iPhonesta", "kirjoitti", "kuljetukseen"},
			fullHas:    []string{"> tilauksesi on lähtenyt kuljetukseen."},
			thread:     "20140207120301.ABCDEF@kaluste.example", parent: "20140207120301.ABCDEF@kaluste.example",
			meta: map[string]string{"signature": "Lähetetty iPhonesta", "flags": ""},
		},
		{
			file: "win1252_as_latin1.eml", subject: "Maksumuistutus",
			authorName: "Pekka Järvinen", authorEmail: "pekka@example.fi",
			textHas: []string{"149,90 € eilen", "”maksumuistutuksen”", "Eräpäivä oli 14.3. – maksu lähti 13.3.", "T. Pekka Järvinen"},
			thread:  "000a01cf3f4b$1b2c3d40$5161b7c0$@example.fi",
			meta:    map[string]string{"flags": "charset_guessed", "text_source": "text/plain"},
		},
		{
			file: "html_only.eml", subject: "Palautetta myymälästä",
			authorName: "Korhonen, Anna", authorEmail: "anna.korhonen@example.fi",
			textHas: []string{
				"Palautetta myymälästä\n\nKävin Tampereen myymälässä 12.3. ja henkilökunta oli todella avuliasta.",
				"Kassajono oli kuitenkin pitkä:", "- odotin 20 minuuttia\n- vain yksi kassa oli auki", "Terveisin\nAnna K.", "© 2014",
			},
			textHasNot: []string{"tracking", "font-family", "<", "DOCTYPE", "Palaute\n"},
			meta:       map[string]string{"text_source": "text/html", "flags": "", "from": `"Korhonen, Anna" <anna.korhonen@example.fi>`},
		},
		{file: "bounce.eml", drop: dropBounce},
		{file: "out_of_office.eml", drop: dropAutoReply},
		{file: "list_mail.eml", drop: dropList},
		{
			file: "attachment.eml", subject: "Reklamaatio: vaurioitunut paketti",
			authorName: "Sanna Salo", authorEmail: "sanna.salo@example.fi",
			textHas:    []string{"Hei,\n\nliitteenä kuitti ja kuva vaurioituneesta paketista. Pyydän hyvitystä.\n\nSanna"},
			textHasNot: []string{"<", "cid:"},
			meta:       map[string]string{"attachment_count": "2", "text_source": "text/plain", "flags": ""},
			attachments: []attachment{
				{Name: "paketti.png", Type: "image/png", Size: 66, Inline: true},
				{Name: "kuitti_äö.pdf", Type: "application/pdf", Size: 1540},
			},
		},
		{
			file: "malformed.eml", subject: "Onggelma koneessa", authorEmail: "asiakas@example.fi",
			textHas:        []string{"Koneeni ei käynnisty enää. Mitä teen?"},
			meta:           map[string]string{"flags": "malformed,charset_guessed"},
			sourceIDPrefix: "nomid-",
			attachments:    []attachment{{Name: "loki.txt", Type: "application/octet-stream", Size: 11}},
			problemsHave:   []string{"malformed header lines", "unreadable Date", "outside the alphabet", "ends without its closing boundary"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseMail(readFixture(t, tt.file), false, readPolicy{})
			reason, detail := filter.drop(m)
			if reason != tt.drop {
				t.Fatalf("drop = %q (%s), want %q", reason, detail, tt.drop)
			}
			if tt.drop != "" {
				return
			}
			env := m.envelope(origin{Account: "support", Mailbox: "INBOX", UIDValidity: 7, UID: 42, Size: 1234}, testNow)
			if err := env.Validate(); err != nil {
				t.Fatalf("invalid envelope: %v", err)
			}
			if env.Subject != tt.subject {
				t.Errorf("subject = %q, want %q", env.Subject, tt.subject)
			}
			if env.Author.Name != tt.authorName || env.Author.Email != tt.authorEmail || env.Author.ID != strings.ToLower(tt.authorEmail) {
				t.Errorf("author = %+v, want %q <%s>", env.Author, tt.authorName, tt.authorEmail)
			}
			for _, s := range tt.textHas {
				if !strings.Contains(env.Text, s) {
					t.Errorf("text does not contain %q:\n%s", s, env.Text)
				}
			}
			for _, s := range tt.textHasNot {
				if strings.Contains(env.Text, s) {
					t.Errorf("text contains %q:\n%s", s, env.Text)
				}
			}
			for _, s := range tt.fullHas {
				if !strings.Contains(env.Metadata["body_full"], s) {
					t.Errorf("body_full does not contain %q:\n%s", s, env.Metadata["body_full"])
				}
			}
			if tt.thread != "" && env.ThreadID != tt.thread {
				t.Errorf("thread = %q, want %q", env.ThreadID, tt.thread)
			}
			if env.ParentID != tt.parent {
				t.Errorf("parent = %q, want %q", env.ParentID, tt.parent)
			}
			if env.Lang != tt.lang {
				t.Errorf("lang = %q, want %q", env.Lang, tt.lang)
			}
			for k, want := range tt.meta {
				if got := env.Metadata[k]; got != want {
					t.Errorf("metadata[%q] = %q, want %q", k, got, want)
				}
			}
			if tt.sourceIDPrefix != "" && !strings.HasPrefix(env.SourceID, tt.sourceIDPrefix) {
				t.Errorf("source id = %q, want prefix %q", env.SourceID, tt.sourceIDPrefix)
			}
			if tt.sourceIDPrefix == "" && env.SourceID != m.MessageID {
				t.Errorf("source id = %q, want the Message-ID %q", env.SourceID, m.MessageID)
			}
			if len(tt.attachments) > 0 {
				var got []attachment
				if err := json.Unmarshal([]byte(env.Metadata["attachments"]), &got); err != nil {
					t.Fatalf("attachments metadata %q: %v", env.Metadata["attachments"], err)
				}
				if len(got) != len(tt.attachments) {
					t.Fatalf("attachments = %+v, want %+v", got, tt.attachments)
				}
				for i := range got {
					if got[i] != tt.attachments[i] {
						t.Errorf("attachment %d = %+v, want %+v", i, got[i], tt.attachments[i])
					}
				}
			} else if env.Metadata["attachments"] != "" {
				t.Errorf("unexpected attachments %s", env.Metadata["attachments"])
			}
			for _, p := range tt.problemsHave {
				if !strings.Contains(env.Metadata["problems"], p) {
					t.Errorf("problems %q do not mention %q", env.Metadata["problems"], p)
				}
			}
			if len(tt.problemsHave) == 0 && env.Metadata["problems"] != "" {
				t.Errorf("unexpected problems: %s", env.Metadata["problems"])
			}
			if env.Metadata["account"] != "support" || env.Metadata["mailbox"] != "INBOX" || env.Metadata["uid"] != "42" || env.Metadata["uidvalidity"] != "7" {
				t.Errorf("origin metadata = %v", env.Metadata)
			}
		})
	}
}
