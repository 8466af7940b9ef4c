package bus

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/nats-io/nkeys"

	"github.com/switchboard/switchboard/internal/config"
)

// CLICredentialName is the file name of the embedded listener's admin
// credential in data_dir, unless nats.embedded.cli_nkey_file says otherwise.
const CLICredentialName = "nats-cli.nk"

// CLICredentialFile returns where the embedded server's admin credential
// (an NKey seed) is kept: nats.embedded.cli_nkey_file, by default
// <data_dir>/nats-cli.nk. The daemon creates it at its first start; Dial
// (the CLI commands) reads it. The nats CLI uses it with --nkey.
func CLICredentialFile(cfg *config.Config) string {
	if f := cfg.NATS.Embedded.CLINKeyFile; f != "" {
		return f
	}
	return filepath.Join(cfg.DataDir, CLICredentialName)
}

// ensureCLICredential returns the key pair in the credential file at path,
// creating the file (mode 0600, a fresh user NKey) when it does not exist.
func ensureCLICredential(path string) (nkeys.KeyPair, error) {
	kp, err := loadCLICredential(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return kp, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating the directory of the NATS credential %s: %w", path, err)
	}
	kp, err = nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("generating the NATS credential: %w", err)
	}
	seed, err := kp.Seed() // kp's own buffer: copied below, never wiped here
	if err != nil {
		return nil, fmt.Errorf("generating the NATS credential: %w", err)
	}
	line := append(append(make([]byte, 0, len(seed)+1), seed...), '\n')
	defer wipe(line)
	// O_EXCL: never overwrite a credential another process just wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the NATS credential %s: %w", path, err)
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("writing the NATS credential %s: %w", path, err)
	}
	return kp, nil
}

// loadCLICredential reads the user NKey seed at path. It refuses a file
// that group or others may read or write: it grants full access to every
// stream. Errors name the file, never its content.
func loadCLICredential(path string) (nkeys.KeyPair, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("NATS credential %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("NATS credential %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("NATS credential %s is accessible to group or others (mode %04o): it grants full access to every stream; "+
			"run chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading NATS credential %s: %w", path, err)
	}
	defer wipe(data)
	kp, err := nkeys.ParseDecoratedUserNKey(data)
	if err != nil {
		return nil, fmt.Errorf("NATS credential %s does not hold a user NKey seed (delete it to have a new one generated at the next start)", path)
	}
	return kp, nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 'x'
	}
}
