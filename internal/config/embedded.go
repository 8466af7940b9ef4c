package config

import (
	"net"

	"github.com/nats-io/nkeys"

	"github.com/switchboard/switchboard/internal/loopback"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// minMaxStore is the smallest nats.embedded.max_store that leaves room for
// the streams' and buckets' own bookkeeping.
const minMaxStore = 1 << 20

// validateEmbedded checks nats.embedded: a listener other hosts can reach
// needs TLS (every listener needs a credential, which the daemon generates),
// and the store cap must hold the streams' own caps.
func (c *Config) validateEmbedded(report func(yamlfile.Path, string, ...any)) {
	e := c.NATS.Embedded
	p := yamlfile.Path{"nats", "embedded"}
	if e.Listen != "" {
		host, _, err := net.SplitHostPort(e.Listen)
		switch {
		case err != nil:
			report(p.Child("listen"), "embedded listen %q: want host:port, or empty to turn the listener off", e.Listen)
		case checkListen(e.Listen) != "":
			report(p.Child("listen"), "embedded listen %s", checkListen(e.Listen))
		case !loopback.Is(host) && (e.TLS.CertFile == "" || e.TLS.KeyFile == ""):
			report(p.Child("listen"), "embedded listen %q is reachable from other hosts: set nats.embedded.tls.cert_file and key_file, "+
				"or listen on 127.0.0.1 (or leave listen empty when no CLI or worker needs it)", e.Listen)
		}
	}
	if (e.TLS.CertFile == "") != (e.TLS.KeyFile == "") {
		report(p.Child("tls"), "tls cert_file and key_file go together")
	}
	if e.CLINKeyFile == "" && c.DataDir == "" && e.Listen != "" {
		report(p.Child("cli_nkey_file"), "the listener's credential needs data_dir or cli_nkey_file")
	}
	seen := map[string]bool{}
	for i, w := range e.TeamWorkers {
		wp := p.Child("team_workers").Child(i)
		if !message.ValidToken(w.Team) {
			report(wp.Child("team"), "team %q: use lowercase letters, digits, '-' or '_'", w.Team)
		}
		switch {
		case !nkeys.IsValidPublicUserKey(w.NKey):
			report(wp.Child("nkey"), "nkey: want the worker's public user NKey (56 characters starting with U), never its seed")
		case seen[w.NKey]:
			report(wp.Child("nkey"), "nkey is given to another team worker already")
		}
		seen[w.NKey] = true
	}
	if len(e.TeamWorkers) > 0 && e.Listen == "" {
		report(p.Child("team_workers"), "team workers connect through the listener: set nats.embedded.listen")
	}
	if e.MaxStore != -1 && e.MaxStore < minMaxStore {
		report(p.Child("max_store"), "max_store must be -1 (no cap) or at least 1MiB")
		return
	}
	if e.MaxStore > 0 {
		var sum int64
		for _, st := range []Stream{c.Streams.Ingest, c.Streams.Team, c.Streams.Dead} {
			if st.MaxBytes > 0 {
				sum += int64(st.MaxBytes)
			}
		}
		if sum > int64(e.MaxStore) {
			report(p.Child("max_store"), "max_store (%d bytes) is smaller than the streams' max_bytes together (%d bytes)", int64(e.MaxStore), sum)
		}
	}
}
