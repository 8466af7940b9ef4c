package router

import (
	"strings"

	"github.com/switchboard/switchboard/internal/bus"
)

// retryReason is the metric label of a failed attempt: "stream_full" or
// "store_full" when JetStream refused the item for lack of room (so that
// such refusals are counted and alerted on apart from other errors), else
// "error".
func retryReason(err error) string {
	if why := bus.FullReason(err); why != "" {
		return strings.ReplaceAll(why, " ", "_")
	}
	return "error"
}
