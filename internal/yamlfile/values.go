package yamlfile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// ValueError returns the error an UnmarshalYAML method returns for a bad
// value: Decode reports it as FILE:LINE:COL: msg, at the token tk.
func ValueError(tk *token.Token, msg string) error {
	return &valueError{tk, msg}
}

// valueError is a bad value, positioned at its token.
type valueError struct {
	tk  *token.Token
	msg string
}

func (e *valueError) Error() string          { return e.msg }
func (e *valueError) GetToken() *token.Token { return e.tk }
func (e *valueError) GetMessage() string     { return e.msg }

// parseScalar reads n as a scalar and parses it, reporting a bad value at
// its position.
func parseScalar[T any](n ast.Node, parse func(string) (T, error)) (T, error) {
	var zero T
	s, err := scalar(n)
	if err != nil {
		return zero, err
	}
	v, err := parse(s)
	if err != nil {
		return zero, &valueError{n.GetToken(), err.Error()}
	}
	return v, nil
}

func scalar(n ast.Node) (string, error) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, nil
	case *ast.IntegerNode, *ast.FloatNode:
		return n.GetToken().Value, nil
	case *ast.NullNode:
		return "", nil
	}
	return "", &valueError{n.GetToken(), fmt.Sprintf("expected a scalar, got %s", n.Type())}
}

// Duration is a time.Duration written as Go duration text ("30s", "24h"),
// with "d" accepted for days ("7d").
type Duration time.Duration

// UnmarshalYAML parses the duration, reporting a bad value at its position.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	v, err := parseScalar(n, ParseDuration)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// String renders d as Go duration text.
func (d Duration) String() string { return time.Duration(d).String() }

// ParseDuration parses Go duration text, plus a whole number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n >= 0 && n < 100000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a number with a unit, like 30s, 5m, 24h or 7d", s)
	}
	return v, nil
}

// ByteSize is a number of bytes written plainly (1048576) or with a binary or
// decimal unit (64KiB, 1MB, 10GiB). -1 means unlimited where a field allows it.
type ByteSize int64

// UnmarshalYAML parses the size, reporting a bad value at its position.
func (b *ByteSize) UnmarshalYAML(n ast.Node) error {
	v, err := parseScalar(n, ParseByteSize)
	if err != nil {
		return err
	}
	*b = ByteSize(v)
	return nil
}

// ParseByteSize parses a byte count with an optional unit.
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || (n < 0 && n != -1) || (n > 0 && n > (1<<62)/mult) {
		return 0, fmt.Errorf("invalid size %q: use bytes or a unit, like 65536, 64KiB or 10GiB", s)
	}
	if n == -1 {
		return -1, nil
	}
	return n * mult, nil
}
