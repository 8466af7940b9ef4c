// Package loopback is the one rule for "this machine": Switchboard sends
// credentials in clear text (plain http webhooks, IMAP without TLS) only to
// a host it names.
package loopback

import (
	"net"
	"strings"
)

// Is reports whether host (a name or an IP address, without port or
// brackets) names this machine: "localhost" in any case, or a loopback
// address (127.0.0.0/8, ::1).
func Is(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
