package exampleset

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// TSV format: tab-separated values, one example per line, the way a
// spreadsheet exports them.
//
//   - The first line that is not blank or a comment (#) is the header: the
//     column names, in any order, from team, text, channel, kind, lang,
//     subject, id and reply_to. team and text are required.
//   - Each further line is one example. It may have fewer fields than the
//     header (the missing ones are empty), never more.
//   - In the team column, (noise) marks an example that must reach no team.
//   - In a field, \t is a tab, \n a line break and \\ a backslash; any
//     other backslash is itself.
//   - Lines starting with # and blank lines are skipped.

// tsvColumns are the column names a header may use.
var tsvColumns = []string{"team", "text", "channel", "kind", "lang", "subject", "id", "reply_to"}

// field is one cell with where it starts.
type field struct {
	value string
	col   int
}

func parseTSV(file string, data []byte, teams []string) (*Set, error) {
	if len(data) > MaxTSVBytes {
		return nil, yamlfile.List{{File: file, Msg: fmt.Sprintf("the file is over the size limit of %d bytes", MaxTSVBytes)}}
	}
	set := &Set{File: file}
	ps := yamlfile.NewFileCollector(file)
	var header []string
	// cells[i] are example i's fields by column name, for positions.
	var cells []map[string]field
	at := func(line, col int, format string, args ...any) {
		ps.Add(&yamlfile.Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
	}
	unescape := tsvUnescaper()
	line := 0
	for rest := data; len(rest) > 0 && ps.Len() < yamlfile.MaxErrors; {
		var raw []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			raw, rest = rest[:i], rest[i+1:]
		} else {
			raw, rest = rest, nil
		}
		line++
		raw = bytes.TrimSuffix(raw, []byte{'\r'})
		if len(bytes.TrimSpace(raw)) == 0 || raw[0] == '#' {
			continue
		}
		fields := splitTSV(raw)
		if header == nil {
			header = readHeader(fields, line, at)
			if header == nil {
				return nil, ps.List().Err()
			}
			continue
		}
		if len(set.Examples) == MaxExamples {
			at(line, 1, "more than %d examples in one file", MaxExamples)
			break
		}
		if len(fields) > len(header) {
			at(line, fields[len(header)].col, "%d fields, but the header names %d columns; a tab inside a text is written \\t", len(fields), len(header))
			continue
		}
		byName := map[string]field{}
		for i, f := range fields {
			byName[header[i]] = f
		}
		// cell is a column's value; empty when the line stops before it.
		cell := func(name string) string { return unescape.Replace(byName[name].value) }
		ex := Example{Text: cell("text"), Subject: cell("subject"), Channel: cell("channel"), Kind: cell("kind"),
			Lang: cell("lang"), ID: cell("id"), ReplyTo: cell("reply_to"), Line: line}
		if team := cell("team"); team == NoiseLabel {
			ex.Noise = true
		} else {
			ex.Team = team
		}
		set.Examples = append(set.Examples, ex)
		cells = append(cells, byName)
	}
	if err := ps.List().Err(); err != nil {
		return nil, err
	}
	if header == nil || len(set.Examples) == 0 {
		return nil, yamlfile.List{{File: file, Msg: "no examples: a header line (team, text, …) and one line per example"}}
	}
	validate(set, teams, func(i int, name string) *yamlfile.Error {
		f, ok := cells[i][name]
		if !ok {
			f.col = 1
		}
		return &yamlfile.Error{File: file, Line: set.Examples[i].Line, Col: f.col}
	}, ps)
	if err := ps.List().Err(); err != nil {
		return nil, err
	}
	return set, nil
}

// readHeader checks the header line; nil when it is unusable.
func readHeader(fields []field, line int, at func(line, col int, format string, args ...any)) []string {
	var names []string
	ok := true
	for _, f := range fields {
		name := strings.ToLower(strings.TrimSpace(f.value))
		switch {
		case !slices.Contains(tsvColumns, name):
			at(line, f.col, "unknown column %q: use %s", f.value, strings.Join(tsvColumns, ", "))
			ok = false
		case slices.Contains(names, name):
			at(line, f.col, "column %q named twice", name)
			ok = false
		}
		names = append(names, name)
	}
	for _, need := range []string{"team", "text"} {
		if !slices.Contains(names, need) {
			at(line, 1, "the header needs a %s column (columns: %s, separated by tabs)", need, strings.Join(tsvColumns, ", "))
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return names
}

// splitTSV splits a line at tabs, keeping each field's 1-based column.
func splitTSV(raw []byte) []field {
	var out []field
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i == len(raw) || raw[i] == '\t' {
			out = append(out, field{value: string(raw[start:i]), col: start + 1})
			start = i + 1
		}
	}
	return out
}

// tsvUnescaper turns \t, \n and \\ into a tab, a line break and a
// backslash, left to right; any other backslash is itself.
func tsvUnescaper() *strings.Replacer {
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\\`, `\`)
}
