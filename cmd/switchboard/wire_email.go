package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/mail"
	"os"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/email"
	"github.com/switchboard/switchboard/internal/config"
)

// buildEmail builds one connector per configured IMAP account, named
// "email.<account>"; none when connectors.email is disabled.
func buildEmail(d wireDeps) ([]connectors.Connector, error) {
	c := d.cfg.Connectors.Email
	if !c.Enabled {
		return nil, nil
	}
	m, err := email.NewMetrics(d.metrics)
	if err != nil {
		return nil, err
	}
	out := make([]connectors.Connector, 0, len(c.Accounts))
	for _, a := range c.Accounts {
		tlsCfg, err := emailTLS(a)
		if err != nil {
			return nil, err
		}
		own := append(append([]string(nil), c.OwnAddresses...), a.OwnAddresses...)
		// The account's own address never sends customer mail.
		if addr, err := mail.ParseAddress(a.Username); err == nil && addr.Address == a.Username {
			own = append(own, a.Username)
		}
		conn, err := email.New(email.Options{
			Account:         a.Name,
			Addr:            a.Addr(),
			TLS:             email.TLSMode(a.TLS),
			TLSConfig:       tlsCfg,
			Username:        a.Username,
			Password:        a.Password,
			Mailboxes:       a.Mailboxes,
			AfterIngest:     email.Action(a.AfterIngest),
			MoveTo:          a.MoveTo,
			IDLE:            a.UseIDLE(),
			PollInterval:    time.Duration(a.PollInterval),
			MaxMessageBytes: int64(a.MaxMessageBytes),
			Backfill:        a.BackfillDuration(),
			IngestLists:     a.IngestLists,
			OwnAddresses:    own,
			Metrics:         m,
			Log:             d.log.Named("email"),

			// The text cap per mail, and whose sender verdicts to record.
			MaxTextBytes:       int(a.MaxTextBytes),
			TrustedAuthservIDs: a.TrustedAuthservIDs,
			// Where the company's replies are read, when responses are tracked.
			SentMailbox: a.SentMailbox,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, conn)
	}
	return out, nil
}

// emailTLS returns the TLS settings of an account: nil (system roots) unless
// it names a ca_file.
func emailTLS(a config.EmailAccount) (*tls.Config, error) {
	if a.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(a.CAFile)
	if err != nil {
		return nil, fmt.Errorf("email account %q: reading ca_file: %w", a.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("email account %q: ca_file %s holds no PEM certificate", a.Name, a.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
