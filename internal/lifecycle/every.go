package lifecycle

import (
	"context"
	"time"
)

// Every calls f at once and then every interval until ctx ends; a call
// that takes longer than interval delays the next instead of piling up.
// It is the loop of the daemon's periodic jobs (store usage, queue
// depths, due escalations, the console's samples).
func Every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
