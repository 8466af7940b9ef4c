package bus

import (
	"fmt"
	"math"
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
		// max_store is the account's limit (limitStore), the one nats-server
		// enforces on publishes; see serverMaxStore for the server's own.
		JetStreamMaxStore:  serverMaxStore(int64(e.MaxStore)),
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
	warnIfDiskSmaller(srv, opts.StoreDir, int64(e.MaxStore), log)
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
// refused (IsStoreFull).
func limitStore(srv *server.Server, maxStore int64) error {
	if maxStore <= 0 {
		return nil
	}
	limits := map[string]server.JetStreamAccountLimits{"": {
		MaxMemory: -1, MaxStore: maxStore, MaxStreams: -1, MaxConsumers: -1, MaxAckPending: -1,
		MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1,
	}}
	if err := srv.GlobalAccount().UpdateJetStreamLimits(limits); err != nil {
		return fmt.Errorf("applying nats.embedded.max_store (%d bytes): %w", maxStore, err)
	}
	return nil
}

// serverMaxStore is the embedded server's own store limit for a max_store
// of maxStore bytes (0: the server's default, what the disk has). Applying
// the account limit, nats-server counts it on top of every stream's
// reserved max_bytes against its own limit — and on a restart the
// recovered streams are already reserved. Their reservations are at most
// max_store (config check and the account limit see to that), so twice
// max_store always leaves room: the server's limit never binds, and the
// account's does. Leaving it dynamic instead made a daemon that started
// once refuse to start again when max_store was near the disk's size.
func serverMaxStore(maxStore int64) int64 {
	if maxStore <= 0 {
		return 0
	}
	if maxStore > (math.MaxInt64-1)/2 {
		return math.MaxInt64
	}
	return 2*maxStore + 1
}

// warnIfDiskSmaller logs when the disk under dir cannot hold max_store
// bytes on top of what the store holds now: the disk would fill before the
// store is full. It is a warning, not a refusal: a daemon must restart even
// on a disk its own data has filled.
func warnIfDiskSmaller(srv *server.Server, dir string, maxStore int64, log *zap.Logger) {
	if maxStore <= 0 {
		return
	}
	free, ok := diskFree(dir)
	if !ok {
		return
	}
	used := int64(srv.GlobalAccount().JetStreamUsage().Store)
	if free+used < maxStore {
		log.Warn("nats.embedded.max_store is more than the disk can hold: the disk fills before the store does",
			zap.Int64("max_store", maxStore), zap.Int64("stored", used), zap.Int64("disk_free", free), zap.String("store_dir", dir))
	}
}
