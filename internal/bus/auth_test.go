package bus_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/tlstest"
)

// listening opens a bus for cfg and points cfg's listen address at the
// port it got, as a CLI command on the same host would see it.
func listening(t *testing.T, cfg *config.Config) *bus.Bus {
	t.Helper()
	b := bustest.Open(t, cfg)
	u := b.ClientURL()
	cfg.NATS.Embedded.Listen = u[strings.Index(u, "://")+3:]
	return b
}

func TestListenerRefusesClientsWithoutTheCredential(t *testing.T) {
	cfg := bustest.Config(t)
	b := listening(t, cfg)
	stranger, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	strangerPub, _ := stranger.PublicKey()
	tests := []struct {
		name string
		opts []nats.Option
	}{
		{"no credential", nil},
		{"unknown key", []nats.Option{nats.Nkey(strangerPub, stranger.Sign)}},
		{"token", []nats.Option{nats.Token("switchboard")}},
		{"user and password", []nats.Option{nats.UserInfo("switchboard", "switchboard")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := nats.Connect(b.ClientURL(), tt.opts...)
			if err == nil {
				nc.Close()
				t.Fatal("connected without the credential")
			}
			if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
				t.Fatalf("want an authorization violation, got %v", err)
			}
		})
	}

	// The CLI path finds the generated credential by itself and has full access.
	nc, js, err := bus.Dial(context.Background(), cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	names := js.StreamNames(ctx)
	n := 0
	for range names.Name() {
		n++
	}
	if names.Err() != nil || n < 3 {
		t.Fatalf("CLI lists %d streams (%v)", n, names.Err())
	}
	if _, err := js.Publish(ctx, b.Subjects.Ingest("web"), []byte("{}")); err != nil {
		t.Fatalf("CLI publish: %v", err)
	}
}

func TestCredentialFileIsPrivateReusedAndNeverLogged(t *testing.T) {
	cfg := bustest.Config(t)
	core, logs := observer.New(zap.DebugLevel)
	b, err := bus.Open(context.Background(), cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	path := bus.CLICredentialFile(cfg)
	if path != filepath.Join(cfg.DataDir, "nats-cli.nk") {
		t.Fatalf("credential at %s", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("credential mode %04o, want 0600", perm)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nkeys.ParseDecoratedUserNKey(seed); err != nil {
		t.Fatalf("credential is not a user NKey seed: %v", err)
	}
	b.Close()

	// A restart keeps the credential, so CLI users need nothing new.
	listening(t, cfg)
	again, _ := os.ReadFile(path)
	if string(again) != string(seed) {
		t.Fatal("the credential changed across a restart")
	}
	nc, _, err := bus.Dial(context.Background(), cfg, "test")
	if err != nil {
		t.Fatalf("dial after restart: %v", err)
	}
	nc.Close()
	secret := strings.TrimSpace(string(seed))
	for _, e := range logs.All() {
		if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, secret) {
			t.Fatalf("the credential was logged: %s", line)
		}
	}
}

func TestBadCredentialFileIsRefused(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by others", "", 0o644, "accessible to group or others (mode 0644)"},
		{"writable by group", "", 0o620, "accessible to group or others (mode 0620)"},
		{"not a seed", "SUPER-SECRET-BUT-NOT-A-SEED\n", 0o600, "does not hold a user NKey seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := bustest.Config(t)
			listening(t, cfg).Close() // creates the credential
			path := bus.CLICredentialFile(cfg)
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, _, dialErr := bus.Dial(context.Background(), cfg, "test")
			cfg.NATS.Embedded.Listen = "127.0.0.1:0"
			b, openErr := bus.Open(context.Background(), cfg, bustest.Logger(t))
			if b != nil {
				b.Close()
			}
			for what, err := range map[string]error{"daemon": openErr, "CLI": dialErr} {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%s: want %q, got %v", what, tt.want, err)
				}
				if strings.Contains(err.Error(), "SUPER-SECRET") {
					t.Fatalf("%s: the error shows the file's content: %v", what, err)
				}
			}
		})
	}
}

func TestListenerOff(t *testing.T) {
	cfg := bustest.Config(t)
	cfg.NATS.Embedded.Listen = ""
	b := bustest.Open(t, cfg)
	if u := b.ClientURL(); u != "" {
		t.Fatalf("ClientURL %q with the listener off", u)
	}
	if _, err := b.PublishIngest(context.Background(), env("off", "in-process still works")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bus.CLICredentialFile(cfg)); !os.IsNotExist(err) {
		t.Fatalf("a credential was created for a listener that is off: %v", err)
	}
	if _, _, err := bus.Dial(context.Background(), cfg, "test"); err == nil || !strings.Contains(err.Error(), "has no listener") {
		t.Fatalf("want a clear no-listener error, got %v", err)
	}
}

func TestListenerWithTLS(t *testing.T) {
	cfg := bustest.Config(t)
	cfg.NATS.Embedded.TLS.CertFile, cfg.NATS.Embedded.TLS.KeyFile = tlstest.WriteSelfSigned(t, "127.0.0.1")
	b := listening(t, cfg)
	if !strings.HasPrefix(b.ClientURL(), "tls://") {
		t.Fatalf("ClientURL %q", b.ClientURL())
	}
	nc, js, err := bus.Dial(context.Background(), cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if !nc.TLSRequired() {
		t.Fatal("the CLI connection is not TLS")
	}
	if _, err := js.Stream(context.Background(), b.Subjects.IngestStream); err != nil {
		t.Fatal(err)
	}
}
