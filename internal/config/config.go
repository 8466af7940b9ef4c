// Package config defines Switchboard's configuration file, loads it strictly
// and validates it. It only describes; runtime objects are built elsewhere
// from a loaded Config. Every option is documented in docs/config.md.
package config

import (
	"time"

	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Config is the whole configuration file.
type Config struct {
	// DataDir holds the embedded NATS server's JetStream store.
	DataDir string `yaml:"data_dir"`
	// Log selects the log format and level.
	Log Log `yaml:"log"`
	// HTTP is the API, intake, health and metrics listener.
	HTTP HTTP `yaml:"http"`
	// NATS selects the embedded server or an external one.
	NATS NATS `yaml:"nats"`
	// Streams sets names and retention of the JetStream streams.
	Streams Streams `yaml:"streams"`
	// Router configures classification and delivery.
	Router Router `yaml:"router"`
	// Delivery configures team-queue backends (Redis, webhooks).
	Delivery Delivery `yaml:"delivery"`
	// Supervisor sets the restart backoff for failing connectors.
	Supervisor Supervisor `yaml:"supervisor"`
	// Connectors configures each channel.
	Connectors Connectors `yaml:"connectors"`
	// Customers configures linking authors into customers, and cases.
	Customers Customers `yaml:"customers"`
	// Responses configures response tracking, service levels and escalation.
	Responses Responses `yaml:"responses"`
	// ShutdownTimeout bounds how long a graceful stop may drain in-flight work.
	ShutdownTimeout yamlfile.Duration `yaml:"shutdown_timeout"`
}

// Log formats (log.format).
const (
	// LogFormatAuto is console when standard error is a terminal, json
	// otherwise (the default).
	LogFormatAuto = "auto"
	// LogFormatJSON is one JSON object per line, for log collectors.
	LogFormatJSON = "json"
	// LogFormatConsole is aligned text for people.
	LogFormatConsole = "console"
)

// Log selects the log output.
type Log struct {
	// Format is LogFormatAuto (default), LogFormatJSON or LogFormatConsole.
	Format string `yaml:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// HTTP configures the daemon's HTTP listener.
type HTTP struct {
	// Listen is host:port; empty disables the listener (and the intake).
	Listen string `yaml:"listen"`
	// Ops says who may use the ops console and the ops endpoints.
	Ops Ops `yaml:"ops"`
	// ReadTimeout bounds reading one request, headers and body (default
	// 30s): a client that sends its body slowly is cut off.
	ReadTimeout yamlfile.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds handling a request and writing the answer
	// (default 2m).
	WriteTimeout yamlfile.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a kept-alive connection idle this long (default 2m).
	IdleTimeout yamlfile.Duration `yaml:"idle_timeout"`
	// ExternalURL is where people reach the daemon's HTTP API and console
	// (https://switchboard.example.com), for links in escalations; an
	// https URL also makes the console's session cookie Secure when a
	// reverse proxy terminates TLS in front of the daemon. Empty: no links.
	ExternalURL string `yaml:"external_url"`
}

// NATS selects the backbone.
type NATS struct {
	// URL of an external NATS server or cluster (comma-separated). Empty runs
	// the embedded server.
	URL string `yaml:"url"`
	// CredsFile is a NATS credentials (.creds) file for an external server.
	CredsFile string `yaml:"creds_file"`
	// NKeyFile is an NKey seed file for an external server.
	NKeyFile string `yaml:"nkey_file"`
	// User and Password authenticate to an external server.
	User         string        `yaml:"user"`
	Password     secret.Secret `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
	// Token authenticates to an external server.
	Token     secret.Secret `yaml:"token"`
	TokenFile string        `yaml:"token_file"`
	// TLS configures TLS to an external server.
	TLS TLS `yaml:"tls"`
	// Embedded configures the in-process server used when URL is empty.
	Embedded Embedded `yaml:"embedded"`
	// ConnectTimeout bounds the first connection.
	ConnectTimeout yamlfile.Duration `yaml:"connect_timeout"`
}

// TLS is client TLS material for an external NATS server.
type TLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Embedded configures the in-process nats-server. The daemon itself talks
// to it in-process; the listener is for the CLI commands (tail, dead, rules
// backtest), the nats CLI and team workers, and always requires a credential.
type Embedded struct {
	// Listen is the host:port other tools use to reach the server; empty
	// turns the listener off. An address other hosts can reach needs TLS.
	Listen string `yaml:"listen"`
	// StoreDir overrides DataDir/jetstream.
	StoreDir string `yaml:"store_dir"`
	// MaxStore caps JetStream file storage (-1: no cap but the disk). When
	// it is reached, publishes are refused.
	MaxStore yamlfile.ByteSize `yaml:"max_store"`
	// CLINKeyFile is the listener's admin credential (an NKey seed), created
	// with mode 0600 at the first start. Default <data_dir>/nats-cli.nk.
	CLINKeyFile string `yaml:"cli_nkey_file"`
	// TLS is the listener's certificate; required for a non-loopback listen.
	TLS ServerTLS `yaml:"tls"`
	// TeamWorkers may read their own team's NATS queue through the
	// listener, and nothing else.
	TeamWorkers []TeamWorker `yaml:"team_workers"`
}

// TeamWorker is a team's worker allowed to read the team's queue from the
// embedded server.
type TeamWorker struct {
	// Team is the team whose queue (<prefix>.team.<team>) it reads.
	Team string `yaml:"team"`
	// NKey is the worker's public user NKey ("U..."); the seed stays with
	// the worker.
	NKey string `yaml:"nkey"`
}

// ServerTLS is the certificate a listener presents.
type ServerTLS struct {
	// CertFile is the PEM certificate (chain).
	CertFile string `yaml:"cert_file"`
	// KeyFile is its PEM private key.
	KeyFile string `yaml:"key_file"`
}

// Streams holds the three JetStream streams.
type Streams struct {
	// Prefix is the first subject token (default "switchboard").
	Prefix string `yaml:"subject_prefix"`
	Ingest Stream `yaml:"ingest"`
	Team   Stream `yaml:"team"`
	Dead   Stream `yaml:"dead"`
	// Replicas is the replica count for every stream (1 for the embedded server).
	Replicas int `yaml:"replicas"`
	// KVBucket names the key-value bucket holding connector checkpoints.
	KVBucket string `yaml:"kv_bucket"`
}

// Stream is one stream's name and retention.
type Stream struct {
	// Name is the JetStream stream name.
	Name string `yaml:"name"`
	// MaxAge drops messages older than this (0: keep forever).
	MaxAge yamlfile.Duration `yaml:"max_age"`
	// MaxBytes caps the stream's size (-1: no cap). A full stream refuses
	// new messages; it never drops old ones to make room.
	MaxBytes yamlfile.ByteSize `yaml:"max_bytes"`
	// DuplicateWindow is how long a Nats-Msg-Id is remembered for dedup.
	DuplicateWindow yamlfile.Duration `yaml:"duplicate_window"`
}

// Router configures the router.
type Router struct {
	// RulesFile is the routing rules file, relative to the config file.
	RulesFile string `yaml:"rules_file"`
	// Consumer is the durable consumer name on the ingest stream.
	Consumer string `yaml:"consumer"`
	// AckWait is how long an ingest message may be in flight before redelivery.
	AckWait yamlfile.Duration `yaml:"ack_wait"`
	// MaxDeliver is how many times an ingest message is tried before it is
	// dead-lettered.
	MaxDeliver int `yaml:"max_deliver"`
	// Workers is how many messages are routed concurrently.
	Workers int `yaml:"workers"`
}

// Supervisor sets connector restart backoff.
type Supervisor struct {
	// BackoffMin is the first restart delay.
	BackoffMin yamlfile.Duration `yaml:"backoff_min"`
	// BackoffMax caps the restart delay.
	BackoffMax yamlfile.Duration `yaml:"backoff_max"`
}

// Connectors configures every channel; each issue adds its own.
type Connectors struct {
	// Intake is the HTTP intake for web forms and chat widgets.
	Intake Intake `yaml:"intake"`
	// Facebook polls Facebook Pages (facebook.go).
	Facebook Facebook `yaml:"facebook"`
	// X polls the X API v2 (x.go).
	X X `yaml:"x"`
	// Email polls IMAP mailboxes (email.go).
	Email Email `yaml:"email"`
}

// Intake configures POST /v1/messages.
type Intake struct {
	// Enabled turns the intake on.
	Enabled bool `yaml:"enabled"`
	// Token is the bearer token clients must send.
	Token     secret.Secret `yaml:"token"`
	TokenFile string        `yaml:"token_file"`
	// MaxBodyBytes caps a request body.
	MaxBodyBytes yamlfile.ByteSize `yaml:"max_body_bytes"`
	// MaxConcurrent caps intake requests handled at once (default
	// DefaultIntakeMaxConcurrent); more are answered 503 with Retry-After.
	MaxConcurrent int `yaml:"max_concurrent"`
}

// DefaultIntakeMaxConcurrent is connectors.intake.max_concurrent's default.
const DefaultIntakeMaxConcurrent = 64

// Default returns the configuration used for every option the file leaves out.
func Default() Config {
	return Config{
		DataDir: "data",
		Log:     Log{Format: LogFormatAuto, Level: "info"},
		HTTP: HTTP{
			Listen:       "127.0.0.1:7480",
			Ops:          Ops{SessionTTL: yamlfile.Duration(12 * time.Hour)},
			ReadTimeout:  yamlfile.Duration(30 * time.Second),
			WriteTimeout: yamlfile.Duration(2 * time.Minute),
			IdleTimeout:  yamlfile.Duration(2 * time.Minute),
		},
		NATS: NATS{
			Embedded:       Embedded{Listen: "127.0.0.1:14222", MaxStore: -1},
			ConnectTimeout: yamlfile.Duration(10 * time.Second),
		},
		Streams: Streams{
			Prefix:   "switchboard",
			Ingest:   Stream{Name: "SWITCHBOARD_INGEST", MaxAge: days(30), MaxBytes: -1, DuplicateWindow: days(2)},
			Team:     Stream{Name: "SWITCHBOARD_TEAM", MaxAge: days(14), MaxBytes: -1, DuplicateWindow: days(1)},
			Dead:     Stream{Name: "SWITCHBOARD_DEAD", MaxAge: days(90), MaxBytes: -1, DuplicateWindow: yamlfile.Duration(2 * time.Minute)},
			Replicas: 1,
			KVBucket: "switchboard_state",
		},
		Router: Router{
			RulesFile:  "rules.yaml",
			Consumer:   "router",
			AckWait:    yamlfile.Duration(30 * time.Second),
			MaxDeliver: 10,
			Workers:    8,
		},
		Supervisor: Supervisor{
			BackoffMin: yamlfile.Duration(time.Second),
			BackoffMax: yamlfile.Duration(5 * time.Minute),
		},
		Connectors: Connectors{
			Intake: Intake{Enabled: true, MaxBodyBytes: 64 << 10, MaxConcurrent: DefaultIntakeMaxConcurrent},
			// config.yaml reads mentions unless told otherwise.
			X: X{Mentions: true},
		},
		ShutdownTimeout: yamlfile.Duration(30 * time.Second),
	}
}

func days(n int) yamlfile.Duration { return yamlfile.Duration(time.Duration(n) * 24 * time.Hour) }
