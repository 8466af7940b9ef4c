package email

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// maxIDLen bounds a Message-ID used verbatim as a source id.
const maxIDLen = 200

// idFromMessageID is the source id of a mail with Message-ID id: the id
// itself without angle brackets when it is printable ASCII of reasonable
// length, else "mid-" and a hash of it. A thread root and a reply's
// References name the same mail the same way, so ids and thread ids agree.
func idFromMessageID(id string) string {
	id = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">"))
	if id == "" {
		return ""
	}
	if len(id) <= maxIDLen {
		ok := true
		for i := 0; i < len(id); i++ {
			if id[i] <= ' ' || id[i] > '~' {
				ok = false
				break
			}
		}
		if ok {
			return id
		}
	}
	sum := sha256.Sum256([]byte(id))
	return "mid-" + hex.EncodeToString(sum[:16])
}

// idWithoutMessageID is the source id of a mail that has no Message-ID:
// "nomid-" and a hash of its originator, recipients, date, subject and body,
// which stay the same when the mail is read again or from another mailbox
// (unlike trace headers such as Received).
func idWithoutMessageID(h textproto.Header, body []byte) string {
	hash := sha256.New()
	for _, k := range []string{"From", "Sender", "To", "Cc", "Date", "Subject"} {
		hash.Write([]byte(k))
		hash.Write([]byte{0})
		hash.Write([]byte(strings.Join(strings.Fields(h.Get(k)), " ")))
		hash.Write([]byte{0})
	}
	hash.Write(body)
	return "nomid-" + hex.EncodeToString(hash.Sum(nil)[:16])
}

// threadOf returns the thread id (the source id of the thread's root mail:
// the first References entry, else In-Reply-To, else the mail itself) and
// the parent (the mail this one answers: In-Reply-To, else the last
// References entry).
func threadOf(m *parsedMail, self string) (thread, parent string) {
	for _, id := range m.InReplyTo {
		if parent = idFromMessageID(id); parent != "" {
			break
		}
	}
	for i := len(m.References) - 1; parent == "" && i >= 0; i-- {
		parent = idFromMessageID(m.References[i])
	}
	for _, id := range m.References {
		if thread = idFromMessageID(id); thread != "" {
			break
		}
	}
	if thread == "" {
		thread = parent
	}
	if thread == "" {
		thread = self
	}
	if parent == self {
		parent = ""
	}
	return thread, parent
}
