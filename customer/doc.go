// Package customer links the identity keys of messages into customers and
// keeps them in JetStream KV: who wrote this, on which channels have they
// written, and is it the same person who wrote on another channel
// yesterday. See docs/customers.md for the model, the KV layout and how
// the router uses it.
package customer
