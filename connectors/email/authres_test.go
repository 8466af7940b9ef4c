package email

import (
	"reflect"
	"strings"
	"testing"
)

// Authentication-Results headers as the receiving servers write them.
const (
	// Gmail / Google Workspace.
	arGmail = "mx.google.com;\n       dkim=pass header.i=@example.fi header.s=20230601 header.b=AbCdEf12;\n" +
		"       spf=pass (google.com: domain of matti@example.fi designates 192.0.2.10 as permitted sender) smtp.mailfrom=matti@example.fi;\n" +
		"       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.fi"
	// Microsoft 365 / Exchange Online: no authserv-id, and the receiving
	// domain as stray words between the results.
	arMicrosoft = "spf=pass (sender IP is 209.85.219.172)\n smtp.mailfrom=example.fi; yritys.fi; dkim=pass (signature was verified)\n" +
		" header.d=example.fi;yritys.fi; dmarc=pass action=none\n header.from=example.fi;compauth=pass reason=100"
	// Microsoft 365 for a domain without a DMARC record.
	arMicrosoftBestGuess = "spf=pass (sender IP is 192.0.2.44) smtp.mailfrom=example.fi; dkim=none (message not signed)\n" +
		" header.d=none;dmarc=bestguesspass action=none header.from=example.fi;compauth=pass reason=109"
	// Postfix with opendmarc (which also checks SPF) and opendkim: one
	// header each, opendmarc's on top.
	arOpenDMARC    = "mail.yritys.fi; dmarc=pass (p=reject dis=none) header.from=example.fi"
	arOpenDMARCSPF = "mail.yritys.fi; spf=pass smtp.mailfrom=example.fi"
	arOpenDKIM     = "mail.yritys.fi;\n\tdkim=pass (2048-bit key; unprotected) header.d=example.fi header.i=@example.fi header.a=rsa-sha256 header.s=mail header.b=K4yS1x2z;\n\tdkim-atps=neutral"
	// Forged by the sender, claiming another server.
	arForged = "mx.evil.example; spf=pass smtp.mailfrom=example.fi; dkim=pass header.d=example.fi; dmarc=pass header.from=example.fi"
)

// authResultsSamples seed FuzzAuthResults.
var authResultsSamples = []string{arGmail, arMicrosoft, arMicrosoftBestGuess, arOpenDMARC, arOpenDMARCSPF, arOpenDKIM, arForged}

func TestParseAuthResults(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want authResults
		ok   bool
	}{
		{"gmail", arGmail, authResults{id: "mx.google.com", results: []authResult{
			{method: "dkim", result: "pass"}, {method: "spf", result: "pass"}, {method: "dmarc", result: "pass", headerFrom: "example.fi"},
		}}, true},
		{"microsoft 365 without authserv-id", arMicrosoft, authResults{results: []authResult{
			{method: "spf", result: "pass"}, {method: "dkim", result: "pass"}, {method: "dmarc", result: "pass", headerFrom: "example.fi"},
			{method: "compauth", result: "pass"},
		}}, true},
		{"opendkim", arOpenDKIM, authResults{id: "mail.yritys.fi", results: []authResult{
			{method: "dkim", result: "pass"}, {method: "dkim-atps", result: "neutral"},
		}}, true},
		{"version 1 and no result", "mx.example.fi 1; none", authResults{id: "mx.example.fi"}, true},
		{"method version, spaces, quoted values", `mx.example.fi; dkim/1 = PASS header.from = "Matti@Example.FI."`,
			authResults{id: "mx.example.fi", results: []authResult{{method: "dkim", result: "pass", headerFrom: "example.fi"}}}, true},
		{"semicolons in comments and quotes", `mx.example.fi (a; b (c; d)); spf=fail reason="x; y"; dmarc=fail`,
			authResults{id: "mx.example.fi", results: []authResult{{method: "spf", result: "fail"}, {method: "dmarc", result: "fail"}}}, true},
		{"unknown version is ignored", "mx.example.fi 2; dmarc=pass", authResults{}, false},
		{"empty", "  ", authResults{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseAuthResults(tt.in)
			if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseAuthResults(%q) =\n%+v, %v\nwant\n%+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestSenderVerdict reads real-shaped headers into envelope metadata. Only
// trusted authserv-ids count, and for each method the topmost result.
func TestSenderVerdict(t *testing.T) {
	none := map[string]string{"auth_spf": "", "auth_dkim": "", "auth_dmarc": "", "auth_from_aligned": ""}
	pass := map[string]string{"auth_spf": "pass", "auth_dkim": "pass", "auth_dmarc": "pass", "auth_from_aligned": "true"}
	tests := []struct {
		name    string
		from    string   // the From header lines ("" for one from example.fi)
		headers []string // Authentication-Results values, topmost first
		trusted []string
		want    map[string]string
	}{
		{"gmail", "", []string{arGmail}, []string{"mx.google.com"}, pass},
		{"microsoft 365", "", []string{arMicrosoft}, []string{NoAuthservID}, pass},
		{"microsoft 365 best guess", "", []string{arMicrosoftBestGuess}, []string{NoAuthservID},
			map[string]string{"auth_spf": "pass", "auth_dkim": "none", "auth_dmarc": "none", "auth_from_aligned": "true"}},
		{"postfix with opendmarc and opendkim", "", []string{arOpenDMARC, arOpenDMARCSPF, arOpenDKIM}, []string{"mail.yritys.fi"}, pass},
		{"authserv-id compared without case", "", []string{arGmail}, []string{"MX.Google.com"}, pass},
		{"nothing trusted configured", "", []string{arGmail}, nil, none},
		{"forged by another authserv-id", "", []string{arForged}, []string{"mail.yritys.fi"}, none},
		{"forged below the receiving server's", "",
			[]string{"mail.yritys.fi; spf=softfail smtp.mailfrom=example.fi; dmarc=fail (p=none) header.from=example.fi", arForged,
				"mail.yritys.fi; dkim=pass header.d=example.fi; dmarc=pass header.from=example.fi"},
			[]string{"mail.yritys.fi"},
			map[string]string{"auth_spf": "softfail", "auth_dkim": "pass", "auth_dmarc": "fail", "auth_from_aligned": "false"}},
		{"id-less header not trusted unless configured", "", []string{arMicrosoft}, []string{"mail.yritys.fi"}, none},
		{"dmarc about another domain", "", []string{"mx.google.com; dmarc=pass header.from=other.example"}, []string{"mx.google.com"},
			map[string]string{"auth_dmarc": "", "auth_from_aligned": "false"}},
		{"two From headers", "From: Matti <matti@example.fi>\nFrom: Pomo <ceo@vip.example>\n", []string{arGmail}, []string{"mx.google.com"},
			map[string]string{"auth_spf": "pass", "auth_dmarc": "", "auth_from_aligned": "false"}},
		{"dmarc temperror", "", []string{"mx.google.com; dmarc=temperror header.from=example.fi"}, []string{"mx.google.com"},
			map[string]string{"auth_dmarc": "temperror", "auth_from_aligned": ""}},
		{"one passing signature among several", "", []string{"mx.google.com; dkim=fail header.d=example.fi; dkim=pass header.d=esp.example"}, []string{"mx.google.com"},
			map[string]string{"auth_dkim": "pass", "auth_dmarc": ""}},
		{"unknown result values are not recorded", "", []string{"mx.google.com; spf=whatever; dmarc=bogus"}, []string{"mx.google.com"}, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from
			if from == "" {
				from = "From: Matti <Matti@Example.fi>\n"
			}
			var hdr strings.Builder
			hdr.WriteString(from)
			for _, v := range tt.headers {
				hdr.WriteString("Authentication-Results: " + v + "\n")
			}
			m := parseMail(rawMail(strings.TrimSuffix(hdr.String(), "\n"), "teksti"), false, readPolicy{trusted: newAuthservIDs(tt.trusted)})
			env := m.envelope(origin{Account: "a", Mailbox: "INBOX", UID: 1, UIDValidity: 1}, testNow)
			for k, want := range tt.want {
				if got := env.Metadata[k]; got != want {
					t.Errorf("metadata[%q] = %q, want %q", k, got, want)
				}
			}
		})
	}
}
