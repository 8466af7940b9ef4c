package bus

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// Why JetStream refused to store a message for lack of room (FullReason).
const (
	// FullStore: the JetStream store is at its cap (nats.embedded.max_store,
	// or the account's or server's limit on an external NATS).
	FullStore = "store full"
	// FullStream: the stream is at its own max_bytes; it refuses new
	// messages instead of dropping old ones.
	FullStream = "stream full"
)

// JetStream API error codes that mean "no room" (nats-server's
// jetstream_errors_generated.go).
const (
	errCodeAccountResourcesExceeded = 10002 // the account's storage limit
	errCodeInsufficientResources    = 10023 // the server's storage limit
	errCodeStorageResourcesExceeded = 10047 // no storage left to reserve
	errCodeStreamStoreFailed        = 10077 // the stream's store refused; the description says why
)

// IsStoreFull reports whether err is JetStream refusing a message because
// the store as a whole is full. Nothing was stored; retrying helps only
// once room is made (max_age expiry, a larger max_store).
func IsStoreFull(err error) bool {
	var api *jetstream.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode {
	case errCodeAccountResourcesExceeded, errCodeInsufficientResources, errCodeStorageResourcesExceeded:
		return true
	}
	return false
}

// IsStreamFull reports whether err is a stream refusing a message because
// its own size or message-count limit is reached (discard policy "new").
func IsStreamFull(err error) bool {
	var api *jetstream.APIError
	if !errors.As(err, &api) || api.ErrorCode != errCodeStreamStoreFailed {
		return false
	}
	switch api.Description {
	case "maximum bytes exceeded", "maximum messages exceeded", "maximum messages per subject exceeded":
		return true
	}
	return false
}

// FullReason returns FullStore or FullStream when err is JetStream refusing
// a message for lack of room, and "" otherwise.
func FullReason(err error) string {
	switch {
	case IsStoreFull(err):
		return FullStore
	case IsStreamFull(err):
		return FullStream
	}
	return ""
}
