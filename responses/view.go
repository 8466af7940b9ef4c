package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/switchboard/switchboard/router/decisions"
)

// decodeView reads the fields of a recordView from a decision record's
// JSON. The tracker reads every change of every record, and most of a
// record is its history, deliveries, routes and scores; this walks the
// top-level object once, skipping those values without decoding them, and
// decodes only the fields it needs (several times faster than
// json.Unmarshal into the view, which still tokenizes every value). Its
// result equals json.Unmarshal's for any record (FuzzDecodeView); input it
// cannot walk is handed to json.Unmarshal.
func decodeView(data []byte, v *recordView) error {
	if err := walkTop(data, func(key, value []byte) error { return v.set(key, value) }); err != nil {
		*v = recordView{}
		return json.Unmarshal(data, v)
	}
	return nil
}

// viewKeys are the record's keys the view reads.
var viewKeys = []string{"id", "channel", "kind", "outcome", "priority", "conversation", "created_at", "routed_at", "teams", "response"}

// set decodes one top-level field. json.Unmarshal also matches keys
// ignoring case; a key that matches a view key only so is refused, and the
// whole record decoded by json.Unmarshal.
func (v *recordView) set(key, value []byte) error {
	switch string(key) {
	case "id":
		return decodeString(value, &v.ID)
	case "channel":
		return decodeString(value, &v.Channel)
	case "kind":
		return decodeString(value, &v.Kind)
	case "outcome":
		return decodeString(value, &v.Outcome)
	case "priority":
		return decodeString(value, &v.Priority)
	case "conversation":
		return decodeString(value, &v.Conversation)
	case "created_at":
		return json.Unmarshal(value, &v.CreatedAt)
	case "routed_at":
		return json.Unmarshal(value, &v.RoutedAt)
	case "teams":
		return json.Unmarshal(value, &v.Teams)
	case "response":
		if string(value) == "null" {
			v.Response = nil
			return nil
		}
		if v.Response == nil {
			v.Response = &decisions.Response{}
		}
		return json.Unmarshal(value, v.Response) // into the same value, as json.Unmarshal does with a repeated key
	default:
		for _, k := range viewKeys {
			if bytes.EqualFold(key, []byte(k)) {
				return errWalk
			}
		}
	}
	return nil
}

var errWalk = errors.New("not a JSON object the walker reads")

// decodeString reads a JSON string of plain characters directly, else (or
// null) with json.Unmarshal.
func decodeString(value []byte, s *string) error {
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' && plain(value[1:len(value)-1]) {
		*s = string(value[1 : len(value)-1])
		return nil
	}
	return json.Unmarshal(value, s)
}

// plain reports whether b is valid UTF-8 without escapes, quotes or control
// characters: JSON string content that decodes to itself.
func plain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}

// walkTop calls fn with each key (unquoted; keys with escapes are refused)
// and raw value of the top-level JSON object in data.
func walkTop(data []byte, fn func(key, value []byte) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errWalk
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return trailing(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return errWalk
		}
		end, err := skipString(data, i)
		if err != nil {
			return err
		}
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return errWalk
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return errWalk
		}
		start := skipSpace(data, i+1)
		end, err = skipValue(data, start)
		if err != nil {
			return err
		}
		if err := fn(key, data[start:end]); err != nil {
			return err
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return errWalk
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return trailing(data, i+1)
		default:
			return errWalk
		}
	}
}

func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return errWalk
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at data[i] ('"').
func skipString(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errWalk
}

// skipValue returns the index after the value starting at data[i]. It
// checks only what it needs to find the value's end; a value it passes is
// decoded (or skipped) by json.Unmarshal, which checks the rest.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errWalk
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := skipString(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errWalk
	}
	j := i
	for j < len(data) && data[j] != ',' && data[j] != '}' && data[j] != ']' && data[j] != ' ' && data[j] != '\n' && data[j] != '\t' && data[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errWalk
	}
	return j, nil
}
