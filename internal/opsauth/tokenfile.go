package opsauth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// GeneratedTokenName is the name of the token LoadOrCreateToken makes.
const GeneratedTokenName = "ops"

// LoadOrCreateToken returns the ops token kept in the file at path,
// creating the file (mode 0600, its directory 0700) with a new random
// token when it does not exist. created says it was made now. The daemon
// uses it when the configuration lists no ops token, so that the console
// is never open and never guarded by a guessable default.
func LoadOrCreateToken(path string) (value string, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		v := strings.TrimSpace(string(data))
		if len(v) < 16 {
			return "", false, fmt.Errorf("ops token file %s holds less than 16 characters: delete it to have a new token generated", path)
		}
		return v, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("reading ops token file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("creating the directory of ops token file %s: %w", path, err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateToken(path) // another process made it meanwhile
	}
	if err != nil {
		return "", false, fmt.Errorf("creating ops token file: %w", err)
	}
	if _, err := f.WriteString(v + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("writing ops token file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("writing ops token file %s: %w", path, err)
	}
	return v, true, nil
}
