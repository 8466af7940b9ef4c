package secret

import (
	"fmt"
	"os"
	"strings"
)

// SourceError is a secret that could not be resolved; Field is the key at
// fault ("token" or "token_file"), so a loader can point at it.
type SourceError struct {
	Field string
	Err   error
}

// Error is the problem; it never holds the secret.
func (e *SourceError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *SourceError) Unwrap() error { return e.Err }

// Resolve returns the secret written as key: the inline value, or the
// content of file (an absolute path; surrounding white space trimmed) when
// file is set. Setting both is an error, and so is a file that cannot be
// read; either is a *SourceError naming the key at fault. Errors name the
// file, never its content.
func Resolve(key string, value Secret, file string) (Secret, error) {
	switch {
	case file == "":
		return value, nil
	case value != "":
		return "", &SourceError{Field: key, Err: fmt.Errorf("set %s or %s_file, not both", key, key)}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", &SourceError{Field: key + "_file", Err: fmt.Errorf("reading %s_file: %w", key, err)}
	}
	return Secret(strings.TrimSpace(string(data))), nil
}
