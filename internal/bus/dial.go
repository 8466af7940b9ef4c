package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/config"
)

// Dial connects a client tool (tail, backtest, dead-letter commands) to the
// backbone a daemon with cfg uses: the embedded server's listener with the
// credential file the daemon generated (CLICredentialFile), or the external
// nats.url with its credentials. It starts nothing.
func Dial(ctx context.Context, cfg *config.Config, name string) (*nats.Conn, jetstream.JetStream, error) {
	url, where := cfg.NATS.URL, "nats.url"
	var opts []nats.Option
	var err error
	if url == "" {
		url, opts, err = embeddedClient(cfg)
		where = url
	} else {
		opts, err = clientOptions(cfg.NATS)
	}
	if err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(url, append(opts, nats.Name(name))...)
	if err != nil {
		hint := ""
		if cfg.NATS.URL == "" {
			hint = " (is the daemon running? its embedded NATS listens there)"
		}
		return nil, nil, fmt.Errorf("connecting to NATS at %s%s: %w", where, hint, redactURL(err, cfg.NATS.URL))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("opening JetStream: %w", err)
	}
	return nc, js, nil
}

// embeddedClient returns the URL of the embedded server's listener and the
// options to authenticate to it: the CLI credential, and TLS when the
// listener has a certificate.
func embeddedClient(cfg *config.Config) (string, []nats.Option, error) {
	e := cfg.NATS.Embedded
	if e.Listen == "" {
		return "", nil, errors.New("the embedded NATS server has no listener (nats.embedded.listen is empty): " +
			"set it to a loopback address such as 127.0.0.1:14222 and restart the daemon")
	}
	host, port, err := net.SplitHostPort(e.Listen)
	if err != nil {
		return "", nil, fmt.Errorf("nats.embedded.listen: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every interface includes loopback
	}
	path := CLICredentialFile(cfg)
	kp, err := loadCLICredential(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil, fmt.Errorf("%w (is the daemon running? it creates this file at its first start with this data_dir)", err)
	}
	if errors.Is(err, os.ErrPermission) {
		return "", nil, fmt.Errorf("%w (run the command as the daemon's user, e.g. sudo -u switchboard)", err)
	}
	if err != nil {
		return "", nil, err
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return "", nil, fmt.Errorf("NATS credential %s: %w", path, err)
	}
	opts := []nats.Option{nats.Nkey(pub, kp.Sign)}
	scheme := "nats://"
	if e.TLS.CertFile != "" {
		tc, err := trustListener(e.TLS.CertFile)
		if err != nil {
			return "", nil, err
		}
		opts = append(opts, nats.Secure(tc))
		scheme = "tls://"
	}
	return scheme + net.JoinHostPort(host, port), opts, nil
}

// trustListener returns a TLS configuration that trusts the system roots
// and the listener's own certificate (so a self-signed one works).
func trustListener(certFile string) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("reading nats.embedded.tls.cert_file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("nats.embedded.tls.cert_file %s holds no PEM certificate", certFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
