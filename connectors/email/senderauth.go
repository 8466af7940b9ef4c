package email

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// NoAuthservID, in Options.TrustedAuthservIDs, trusts Authentication-Results
// headers written without an authserv-id, as Microsoft 365 writes them.
const NoAuthservID = "(none)"

// maxAuthHeaders is how many Authentication-Results headers, from the top,
// are read. The receiving server's are the topmost.
const maxAuthHeaders = 16

// authservIDs are the trusted authserv-ids, lowercase ("" for NoAuthservID).
type authservIDs map[string]bool

// newAuthservIDs builds the trusted set from configured ids.
func newAuthservIDs(ids []string) authservIDs {
	if len(ids) == 0 {
		return nil
	}
	t := authservIDs{}
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if id == NoAuthservID {
			id = ""
		}
		t[id] = true
	}
	return t
}

// authVerdict is what the receiving server said about a mail's sender.
// Results are "pass", "fail", "softfail", "neutral", "none", "temperror",
// "permerror" or "policy"; "" when the server said nothing usable.
type authVerdict struct {
	SPF, DKIM, DMARC string
	// DMARCFrom is the From domain the DMARC result is about ("" when the
	// header does not say).
	DMARCFrom string
	// DMARCAligned reports a DMARC result that says the From domain was
	// authenticated: pass, or Microsoft's bestguesspass (aligned, but the
	// domain publishes no DMARC policy).
	DMARCAligned bool
}

// verdict reads the Authentication-Results headers of h written by a
// trusted authserv-id. Headers of any other authserv-id are ignored: the
// sender, or any server on the way, can write them. For each method the
// topmost trusted result counts, which is the receiving server's (it adds
// its headers on top); RFC 8601 section 5 makes the receiving server delete
// headers claiming its authserv-id from incoming mail.
func (t authservIDs) verdict(h textproto.Header) authVerdict {
	var v authVerdict
	if len(t) == 0 {
		return v
	}
	for i, raw := range h.Values("Authentication-Results") {
		if i == maxAuthHeaders {
			break
		}
		ar, ok := parseAuthResults(raw)
		if !ok || !t[ar.id] {
			continue
		}
		v.take(ar)
	}
	return v
}

// take records the results of one trusted header for the methods that no
// header above it stated.
func (v *authVerdict) take(ar authResults) {
	spf, dkim, dmarc := v.SPF == "", v.DKIM == "", v.DMARC == ""
	for _, r := range ar.results {
		switch {
		case r.method == "spf" && spf && v.SPF == "":
			v.SPF = authResultValue(r.result)
		case r.method == "dkim" && dkim && v.DKIM != "pass":
			// One pass among several signatures is a pass.
			if res := authResultValue(r.result); res != "" && (v.DKIM == "" || res == "pass") {
				v.DKIM = res
			}
		case r.method == "dmarc" && dmarc && v.DMARC == "":
			v.DMARC = authResultValue(r.result)
			v.DMARCAligned = r.result == "pass" || r.result == "bestguesspass"
			v.DMARCFrom = r.headerFrom
		}
	}
}

// authResultValue normalises a result to the RFC 8601 registry values;
// "" for one it does not know.
func authResultValue(r string) string {
	switch r {
	case "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy":
		return r
	case "hardfail":
		return "fail"
	case "bestguesspass":
		// Microsoft 365: the domain publishes no DMARC policy, but the
		// mail would have passed one.
		return "none"
	}
	return ""
}

// setAuthMeta records the verdict in the envelope metadata: auth_spf,
// auth_dkim, auth_dmarc and auth_from_aligned. The DMARC result is recorded
// only when it is about the author: the mail has one From address and the
// result names its domain (or no domain). Otherwise auth_from_aligned is
// "false", so that a rule requiring auth_dmarc: pass never trusts an author
// the server did not check.
func (m *parsedMail) setAuthMeta(meta map[string]string) {
	v := m.Auth
	if v.SPF != "" {
		meta["auth_spf"] = v.SPF
	}
	if v.DKIM != "" {
		meta["auth_dkim"] = v.DKIM
	}
	if v.DMARC == "" {
		return
	}
	if m.FromFields != 1 || len(m.From) != 1 || v.DMARCFrom != "" && v.DMARCFrom != mailDomain(m.From[0].Email) {
		meta["auth_from_aligned"] = "false"
		return
	}
	meta["auth_dmarc"] = v.DMARC
	switch {
	case v.DMARCAligned:
		meta["auth_from_aligned"] = "true"
	case v.DMARC == "fail":
		meta["auth_from_aligned"] = "false"
	}
}
