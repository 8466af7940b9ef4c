// Package identity finds who an envelope is from: the identity keys it
// yields (the channel's own ids of the author, and the email addresses,
// phone numbers and configured order or customer numbers in its text), the
// author's display name in a comparable form, and which other channels the
// text says the author already used ("laitoin sähköpostia", "I DM'd you").
//
// It only reads envelopes; linking keys into customers and remembering
// them is package customer's job. Everything here is a pure function of
// the envelope and the configuration, so it is cheap and safe to call from
// every router worker. See docs/customers.md.
package identity
