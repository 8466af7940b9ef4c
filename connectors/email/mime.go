package email

import (
	"bufio"
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// splitHeader separates a header block from its body leniently: an mbox
// "From " line is skipped, a continuation line without a field is dropped,
// and a line that cannot be a header field ends the header (it is taken as
// the first body line, and the entity is reported malformed).
func splitHeader(raw []byte) (h textproto.Header, body []byte, malformed bool) {
	var clean bytes.Buffer
	pos := 0
	if bytes.HasPrefix(raw, []byte("From ")) || bytes.HasPrefix(raw, []byte(">From ")) {
		pos = nextLine(raw, 0)
	}
	body = nil
	for pos < len(raw) {
		next := nextLine(raw, pos)
		line := bytes.TrimRight(raw[pos:next], "\r\n")
		if len(line) == 0 {
			body = raw[next:]
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if clean.Len() == 0 {
				malformed = true
			} else {
				clean.Write(line)
				clean.WriteString("\r\n")
			}
			pos = next
			continue
		}
		if !isHeaderField(line) {
			malformed = true
			body = raw[pos:]
			break
		}
		clean.Write(line)
		clean.WriteString("\r\n")
		pos = next
	}
	clean.WriteString("\r\n")
	h, err := textproto.ReadHeader(bufio.NewReader(&clean))
	if err != nil {
		malformed = true
	}
	return h, body, malformed
}

// nextLine returns the offset just after the line starting at pos.
func nextLine(b []byte, pos int) int {
	if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
		return pos + i + 1
	}
	return len(b)
}

// isHeaderField reports whether line looks like "Key: value".
func isHeaderField(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// splitMultipart cuts a multipart body into its parts. closed reports that
// the closing delimiter was seen; found that any delimiter was. A body cut
// short keeps the parts read so far, the last one as far as it goes.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed, found bool) {
	if boundary == "" {
		return nil, false, false
	}
	delim := []byte("--" + boundary)
	start := -1
	for pos := 0; pos < len(body); {
		next := nextLine(body, pos)
		line := bytes.TrimRight(body[pos:next], " \t\r\n")
		if rest, ok := bytes.CutPrefix(line, delim); ok && (len(rest) == 0 || string(rest) == "--") {
			found = true
			if start >= 0 {
				parts = append(parts, trimLastNewline(body[start:pos]))
			}
			if len(rest) == 2 {
				return parts, true, true
			}
			start = next
		}
		pos = next
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts, false, found
}

// trimLastNewline drops the line break that belongs to the next delimiter.
func trimLastNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// mediaType parses a Content-Type (or Content-Disposition) value: the
// lowercase type and its parameters. Broken parameters are read loosely.
func mediaType(v string) (string, map[string]string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || params == nil {
		if mt == "" {
			t, _, _ := strings.Cut(v, ";")
			mt = strings.ToLower(strings.TrimSpace(t))
		}
		params = looseParams(v)
	}
	for k, p := range params {
		if strings.Contains(p, "=?") {
			params[k] = decodeHeaderText(p)
		}
	}
	return mt, params
}

// looseParams reads key=value parameters that mime.ParseMediaType rejected
// (unbalanced quotes, duplicates, stray characters).
func looseParams(v string) map[string]string {
	params := map[string]string{}
	_, rest, _ := strings.Cut(v, ";")
	for _, f := range splitUnquoted(rest, ';') {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if ext, ok := strings.CutSuffix(k, "*"); ok {
			// RFC 2231 charset''percent-encoded: keep the readable part.
			k = ext
			if i := strings.LastIndex(val, "''"); i >= 0 {
				val = val[i+2:]
			}
		}
		if k != "" {
			if _, dup := params[k]; !dup {
				params[k] = val
			}
		}
	}
	return params
}

// splitUnquoted splits s at sep outside double quotes.
func splitUnquoted(s string, sep byte) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case '\\':
			i++
		case sep:
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start <= len(s) {
		out = append(out, s[start:])
	}
	return out
}

// address is one mail address with its display name.
type address struct {
	Name  string
	Email string
}

// String renders the address for people: "Name <email>", with the name
// in double quotes when it holds special characters, or the bare address.
// Unlike net/mail it keeps non-ASCII names readable (no RFC 2047 words).
func (a address) String() string {
	if a.Name == "" {
		return a.Email
	}
	name := a.Name
	if strings.ContainsAny(name, `()<>[]:;@\,."`) {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + a.Email + ">"
}

// parseAddresses reads an address list header, strictly first and then
// loosely, so that "Last, First <a@b>" or raw 8-bit names still yield
// addresses.
func parseAddresses(raw string) []address {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: newWordDecoder()}
	if list, err := p.ParseList(raw); err == nil && len(list) > 0 {
		out := make([]address, 0, len(list))
		for _, a := range list {
			out = append(out, address{Name: oneLine(a.Name), Email: oneLine(a.Address)})
		}
		return out
	}
	var out []address
	for _, piece := range splitAddressList(raw) {
		if a, ok := looseAddress(piece); ok {
			out = append(out, a)
		}
	}
	return out
}

// splitAddressList splits at commas outside quotes and angle brackets. A
// comma inside an unquoted display name ("Last, First <a@b>") is kept by
// joining pieces that have no '@'.
func splitAddressList(s string) []string {
	var out []string
	inQuote, angle := false, 0
	// start is where the current address begins; hasAt tells whether the
	// text since start holds an '@' (pieces without one are joined to the
	// next, as they are part of a display name).
	start, hasAt := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case '<':
			angle++
		case '>':
			if angle > 0 {
				angle--
			}
		case '@':
			hasAt = true
		case ',':
			if !inQuote && angle == 0 && hasAt {
				out = append(out, s[start:i])
				start, hasAt = i+1, false
			}
		}
	}
	if hasAt {
		out = append(out, s[start:])
	}
	return out
}

// looseAddress reads "Name <a@b>", "a@b (Name)" or a bare "a@b".
func looseAddress(s string) (address, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			email := strings.TrimSpace(s[i+1 : i+j])
			name := strings.Trim(strings.TrimSpace(s[:i]), `"' `)
			if strings.Contains(email, "@") {
				return address{Name: decodeHeaderText(name), Email: oneLine(email)}, true
			}
		}
	}
	for _, f := range strings.Fields(s) {
		f = strings.Trim(f, `"'<>(),;`)
		if strings.Contains(f, "@") {
			name := ""
			if i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')'); i >= 0 && j > i {
				name = decodeHeaderText(s[i+1 : j])
			}
			return address{Name: name, Email: oneLine(f)}, true
		}
	}
	return address{}, false
}

// msgIDs reads the message ids of a Message-ID, In-Reply-To or References
// value: each "<...>" without its brackets, or the bare value when there are
// no brackets.
func msgIDs(raw string) []string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	var out []string
	rest := raw
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		id := strings.TrimSpace(rest[i+1 : i+j])
		if id != "" && !strings.ContainsAny(id, " \t<") {
			out = append(out, id)
		}
		rest = rest[i+j+1:]
	}
	if len(out) == 0 && !strings.ContainsAny(raw, " \t<>") {
		out = append(out, raw)
	}
	return out
}

// parseDate reads a Date header, trying common broken forms after RFC 5322.
func parseDate(raw string) (time.Time, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, false
	}
	if t, err := mail.ParseDate(raw); err == nil {
		return t, true
	}
	// Drop a trailing comment like "(CET)" and doubled spaces.
	if i := strings.IndexByte(raw, '('); i > 0 {
		raw = strings.TrimSpace(raw[:i])
	}
	raw = strings.Join(strings.Fields(raw), " ")
	for _, layout := range []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 MST",
		"Mon, 2 Jan 2006 15:04 -0700",
		"2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 06 15:04:05 -0700",
		"Mon, 2 January 2006 15:04:05 -0700",
		"Mon Jan 2 15:04:05 2006",
		"Mon Jan 2 15:04:05 MST 2006",
		"Mon, 2 Jan 2006 15:04:05",
		time.RFC3339,
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05",
	} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
