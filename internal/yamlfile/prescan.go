package yamlfile

import (
	"fmt"
	"io"
	"os"
)

// Limits bound what a file may cost before the YAML library sees it. A
// hostile or broken file (an alias bomb, thousands of nested brackets) is
// refused by Prescan in time and memory linear in its size, instead of
// being expanded by the decoder: a 600-byte alias bomb once took the daemon
// to 3.4 GB, 80 KB of nested flow sequences to 4.9 GB.
type Limits struct {
	// MaxBytes caps the file's size.
	MaxBytes int
	// MaxDepth caps the nesting of collections, block (indentation) and
	// flow ([ ], { }) together.
	MaxDepth int
	// AllowAliases permits anchors (&name) and aliases (*name). Off, each is
	// an error: expanding aliases is what makes a small file huge.
	AllowAliases bool
	// AliasHelp ends the message about a refused alias or anchor: how to
	// write the file without one.
	AliasHelp string
}

// DefaultLimits suit configuration files people edit by hand: 1 MiB, 64
// levels, no aliases.
func DefaultLimits() Limits { return Limits{MaxBytes: 1 << 20, MaxDepth: 64} }

// Prescan checks raw YAML against lim before it is parsed: the size, the
// nesting depth, and (unless allowed) anchors and aliases. It reads the
// bytes once, understanding just enough YAML to do so (quotes, comments,
// block scalars, flow collections), and reports at most MaxErrors problems
// as FILE:LINE:COL. It allocates only for the problems it reports.
func Prescan(file string, data []byte, lim Limits) error {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return List{{File: file, Msg: fmt.Sprintf("the file is over the size limit of %d bytes", lim.MaxBytes)}}
	}
	s := scanner{file: file, data: data, lim: lim}
	s.run()
	if n := s.aliases - maxAliasErrors; n > 0 && !s.stopped {
		s.errs = append(s.errs, &Error{File: file, Msg: fmt.Sprintf("… and %d more anchors and aliases", n)})
	}
	return s.errs.Err()
}

// maxAliasErrors caps how many refused anchors and aliases are listed one
// by one: an alias bomb has hundreds, and the first few say it all.
const maxAliasErrors = 5

// ReadFile reads the file at path, but no more than max+1 bytes of it: a
// file over a size limit is refused (by Prescan) without being read whole.
func ReadFile(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(max)+1))
}

// scanner walks the bytes of a YAML file line by line.
type scanner struct {
	file string
	data []byte
	lim  Limits
	errs List

	line int // of the current byte, 1-based
	// indents is the stack of block indentations open at this line.
	indents []int
	// flow is the number of open [ and {.
	flow int
	// quote is the open quote character, 0 outside quotes.
	quote byte
	// blockIndent >= 0: inside a block scalar (| or >) whose content lines
	// are indented more than this.
	blockIndent int
	// inline counts the block collections opened earlier on this line
	// ("- - x", "a: - x" style compact nesting).
	inline int
	// plain: the last line ended inside a plain (unquoted) scalar in block
	// context, at indentation plainIndent; a more indented line continues it.
	plain       bool
	plainIndent int
	// aliases counts the anchors and aliases refused.
	aliases int
	tooDeep bool
	stopped bool
}

func (s *scanner) errorf(line, col int, format string, args ...any) {
	if len(s.errs) >= MaxErrors {
		s.errs = append(s.errs, &Error{File: s.file, Msg: "… and more problems; fix these first"})
		s.stopped = true
		return
	}
	s.errs = append(s.errs, &Error{File: s.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (s *scanner) run() {
	s.blockIndent = -1
	s.line = 0
	// Lines end at \n, \r\n or a lone \r, as in YAML.
	for start := 0; start < len(s.data) && !s.stopped; {
		end := start
		for end < len(s.data) && s.data[end] != '\n' && s.data[end] != '\r' {
			end++
		}
		s.line++
		s.scanLine(s.data[start:end])
		start = end + 1
		if end+1 < len(s.data) && s.data[end] == '\r' && s.data[end+1] == '\n' {
			start++
		}
	}
}

// indentOf counts the leading spaces of a line.
func indentOf(l []byte) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

func blank(l []byte) bool {
	for _, c := range l {
		if c != ' ' && c != '\t' && c != '\r' {
			return c == '#'
		}
	}
	return true
}

func (s *scanner) scanLine(l []byte) {
	ind := indentOf(l)
	if s.blockIndent >= 0 {
		if blank(l) && s.quote == 0 || ind > s.blockIndent {
			return // block scalar content: text, not structure
		}
		s.blockIndent = -1
	}
	i := 0
	if s.quote == 0 && s.flow == 0 {
		if blank(l) {
			return
		}
		if s.plain && ind > s.plainIndent && !mappingIndicator(l) {
			return // continues the plain scalar above: text, not structure
		}
		s.plain = false
		if len(l) >= 3 && (string(l[:3]) == "---" || string(l[:3]) == "...") && (len(l) == 3 || l[3] == ' ' || l[3] == '\r') {
			s.indents = s.indents[:0]
			i = 3
		} else {
			for len(s.indents) > 0 && s.indents[len(s.indents)-1] > ind {
				s.indents = s.indents[:len(s.indents)-1]
			}
			if len(s.indents) == 0 || s.indents[len(s.indents)-1] < ind {
				s.indents = append(s.indents, ind)
			}
			i = ind
		}
		s.inline = 0
		s.checkDepth(ind + 1)
	}
	nodeStart := s.quote == 0
	for ; i < len(l) && !s.stopped; i++ {
		c := l[i]
		col := i + 1
		if s.quote != 0 {
			switch {
			case s.quote == '"' && c == '\\':
				i++ // the escaped byte
			case c == s.quote && s.quote == '\'' && i+1 < len(l) && l[i+1] == '\'':
				i++ // '' inside single quotes
			case c == s.quote:
				s.quote = 0
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r':
			continue // whitespace keeps a node start a node start
		case '#':
			if i == 0 || l[i-1] == ' ' || l[i-1] == '\t' {
				s.plain = false
				return // a comment runs to the end of the line
			}
		}
		s.plain = false
		if nodeStart {
			switch c {
			case '"', '\'':
				s.quote = c
				nodeStart = false
				continue
			case '&', '*':
				if !s.lim.AllowAliases {
					end := i + 1
					for end < len(l) && !s.nameEnd(l[end]) {
						end++
					}
					what := "an anchor"
					if c == '*' {
						what = "an alias"
					}
					msg := fmt.Sprintf("%q is %s: YAML anchors (&name) and aliases (*name) are not accepted here", l[i:end], what)
					if s.lim.AliasHelp != "" {
						msg += "; " + s.lim.AliasHelp
					}
					if s.aliases++; s.aliases <= maxAliasErrors {
						s.errorf(s.line, col, "%s", msg)
					}
					i = end - 1
				}
				if c == '&' {
					// An anchor is followed by its node.
					for i+1 < len(l) && !s.nameEnd(l[i+1]) {
						i++
					}
					continue
				}
				nodeStart = false
				continue
			case '!':
				for i+1 < len(l) && !s.nameEnd(l[i+1]) {
					i++
				}
				continue // a tag is followed by its node
			case '|', '>':
				if s.flow == 0 && blockHeader(l[i+1:]) {
					s.blockIndent = indentOf(l)
					return
				}
			case '-', '?':
				if s.flow == 0 && (i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t' || l[i+1] == '\r') {
					s.inline++
					s.checkDepth(col)
					continue
				}
			}
		}
		switch c {
		case '[', '{':
			if nodeStart || s.flow > 0 {
				s.flow++
				s.checkDepth(col)
				nodeStart = true
				continue
			}
		case ']', '}':
			if s.flow > 0 {
				s.flow--
				nodeStart = false
				continue
			}
		case ',':
			if s.flow > 0 {
				nodeStart = true
				continue
			}
		case ':':
			// Readers differ on ':' without a space after it; here it
			// starts a node whenever one could follow (the safe side).
			if i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t' || l[i+1] == '\r' || s.flow > 0 || l[i+1] == '*' || l[i+1] == '&' {
				if s.flow == 0 {
					s.inline++
					s.checkDepth(col)
				}
				nodeStart = true
				continue
			}
		}
		nodeStart = false
		if s.flow == 0 {
			// Continuation lines are indented more than the scalar's
			// parent: this line's indentation after "key:" or "- ", the
			// enclosing one when the scalar opens the line.
			// At the top level there is no parent: no line is skipped
			// then (YAML readers disagree on such files).
			s.plain, s.plainIndent = true, ind
			if s.inline == 0 {
				n := len(s.indents)
				s.plain = n >= 2
				if s.plain {
					s.plainIndent = s.indents[n-2]
				}
			}
		}
	}
}

// checkDepth reports nesting deeper than the limit, once per file.
func (s *scanner) checkDepth(col int) {
	d := len(s.indents) + s.inline + s.flow
	if s.lim.MaxDepth > 0 && d > s.lim.MaxDepth && !s.tooDeep {
		s.tooDeep = true
		s.errorf(s.line, col, "the file nests more than %d levels deep here; flatten it", s.lim.MaxDepth)
		s.stopped = true
	}
}

// mappingIndicator reports whether l has a ':' followed by whitespace or
// the end of the line: then it is structure, even where a plain scalar
// could continue.
func mappingIndicator(l []byte) bool {
	for i, c := range l {
		if c == ':' && (i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t' || l[i+1] == '\r') {
			return true
		}
	}
	return false
}

// nameEnd reports bytes that end an anchor, alias or tag name:
// whitespace, and in flow collections also the flow indicators.
func (s *scanner) nameEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\r':
		return true
	case ',', '[', ']', '{', '}':
		return s.flow > 0
	}
	return false
}

// blockHeader reports whether rest (what follows | or >) is a block scalar
// header: optional indentation and chomping indicators, then nothing but
// whitespace or a comment.
func blockHeader(rest []byte) bool {
	i := 0
	for i < len(rest) && (rest[i] == '-' || rest[i] == '+' || rest[i] >= '1' && rest[i] <= '9') {
		i++
	}
	if i == len(rest) {
		return true
	}
	if rest[i] != ' ' && rest[i] != '\t' && rest[i] != '\r' {
		return false
	}
	return blank(rest[i:])
}
