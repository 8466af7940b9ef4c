// Package secret holds what Switchboard knows about credentials: the Secret
// type that never prints, how a secret is written in a file (${ENV}
// references, the X or X_file choice) and, in redactor.go, the Redactor that
// scrubs every configured secret from text before it is logged or stored.
// It is a leaf: config, rules, the connectors and the router import it, it
// imports none of them.
package secret

// Secret is a string that never prints: formatting and JSON show
// "[redacted]" (or "" when empty), so a config dump or an error cannot leak
// it.
type Secret string

// Redacted is what a secret is replaced with wherever it would show.
const Redacted = "[redacted]"

// Reveal returns the secret's value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText hides the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
