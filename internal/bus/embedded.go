package bus

import (
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/config"
)

// embedded is a started in-process nats-server and how the daemon connects
// to it.
type embedded struct {
	srv *server.Server
	// unlock releases the store directory.
	unlock func()
	// auth authenticates the daemon's own in-process connection with a key
	// made for this run only; it is never written anywhere.
	auth nats.Option
}

// startEmbedded starts the in-process server as cfg says. Every client must
// authenticate: the daemon with a per-run key, the CLI with the credential
// file (created on the first start), team workers with their configured
// keys (teamWorkerPermissions). The store cap is enforced as the account's JetStream limit.
func startEmbedded(cfg *config.Config, log *zap.Logger) (*embedded, error) {
	e := cfg.NATS.Embedded
	daemonKey, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("generating the daemon's NATS key: %w", err)
	}
	daemonPub, err := daemonKey.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("generating the daemon's NATS key: %w", err)
	}
	opts := &server.Options{
		ServerName: "switchboard",
		JetStream:  true,
		// The server's own store limit stays dynamic (what the disk has):
		// max_store is the account's limit (limitStore), which nats-server
		// enforces on publishes and checks against the disk when it is set.
		JetStreamMaxMemory: -1,
		NoSigs:             true,
		MaxPayload:         8 << 20,
		Nkeys:              []*server.NkeyUser{{Nkey: daemonPub}},
	}
	if e.Listen == "" {
		opts.DontListen = true
	} else if err := listenOptions(cfg, opts); err != nil {
		return nil, err
	}
	opts.StoreDir = e.StoreDir
	if opts.StoreDir == "" {
		opts.StoreDir = filepath.Join(cfg.DataDir, "jetstream")
	}
	unlock, err := lockDir(opts.StoreDir)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("configuring embedded NATS: %w", err)
	}
	srv.SetLoggerV2(&natsLogger{log.Named("nats")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		unlock()
		return nil, fmt.Errorf("embedded NATS did not become ready within 30s (store %s)", opts.StoreDir)
	}
	if err := limitStore(srv, int64(e.MaxStore)); err != nil {
		srv.Shutdown()
		unlock()
		return nil, err
	}
	if e.Listen == "" {
		log.Info("embedded NATS started without a listener (nats.embedded.listen is empty)", zap.String("store_dir", opts.StoreDir))
	} else {
		log.Info("embedded NATS started", zap.String("url", srv.ClientURL()), zap.String("store_dir", opts.StoreDir),
			zap.String("credential", CLICredentialFile(cfg)), zap.Bool("tls", opts.TLSConfig != nil))
	}
	return &embedded{
		srv:    srv,
		unlock: unlock,
		auth:   nats.Nkey(daemonPub, daemonKey.Sign),
	}, nil
}

// listenOptions sets the listener's address, TLS and the users allowed to
// connect through it.
func listenOptions(cfg *config.Config, opts *server.Options) error {
	e := cfg.NATS.Embedded
	host, portText, err := net.SplitHostPort(e.Listen)
	if err != nil {
		return fmt.Errorf("nats.embedded.listen: %w", err)
	}
	port, err := net.LookupPort("tcp", portText)
	if err != nil {
		return fmt.Errorf("nats.embedded.listen: %w", err)
	}
	// nats-server only logs a taken port; check first so the error is clear.
	if port != 0 {
		l, err := net.Listen("tcp", e.Listen)
		if err != nil {
			return fmt.Errorf("embedded NATS cannot listen on %s: %w (another process holds the port; "+
				"stop it, or set nats.embedded.listen to a free port, or set nats.url to use that server)", e.Listen, err)
		}
		_ = l.Close()
	} else {
		port = server.RANDOM_PORT // "127.0.0.1:0": any free port (tests)
	}
	opts.Host, opts.Port = host, port
	if e.TLS.CertFile != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: e.TLS.CertFile, KeyFile: e.TLS.KeyFile})
		if err != nil {
			return fmt.Errorf("nats.embedded.tls: %w", err)
		}
		opts.TLSConfig = tc
	}
	cli, err := ensureCLICredential(CLICredentialFile(cfg))
	if err != nil {
		return err
	}
	cliPub, err := cli.PublicKey()
	if err != nil {
		return fmt.Errorf("reading the NATS credential: %w", err)
	}
	opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: cliPub})
	opts.Nkeys = append(opts.Nkeys, teamWorkerUsers(cfg)...)
	return nil
}

// limitStore makes nats.embedded.max_store real. nats-server enforces a
// store cap on publishes as an account's JetStream limit, so the cap is set
// on the account every client uses; a publish that would exceed it is
// refused (IsStoreFull). The server's own max_store is left dynamic:
// setting both to the same value is refused (the server counts the
// account's new limit on top of what it already reserves).
func limitStore(srv *server.Server, maxStore int64) error {
	if maxStore <= 0 {
		return nil
	}
	limits := map[string]server.JetStreamAccountLimits{"": {
		MaxMemory: -1, MaxStore: maxStore, MaxStreams: -1, MaxConsumers: -1, MaxAckPending: -1,
		MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1,
	}}
	if err := srv.GlobalAccount().UpdateJetStreamLimits(limits); err != nil {
		return fmt.Errorf("applying nats.embedded.max_store (%d bytes): %w (is it more than the disk has free?)", maxStore, err)
	}
	return nil
}
