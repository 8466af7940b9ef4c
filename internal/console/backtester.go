package console

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/rules"
	"github.com/switchboard/switchboard/rules/backtest"
)

// IngestBacktester backtests against the ingest stream.
type IngestBacktester struct {
	JS jetstream.JetStream
	// Stream is the ingest stream; Filter its subjects.
	Stream, Filter string
}

// Backtest implements Backtester: the last messages of the stream through
// both rule sets, with two examples per change.
func (b IngestBacktester) Backtest(ctx context.Context, live, candidate *rules.Rules, last int) (*backtest.Report, error) {
	return backtest.Run(ctx, b.JS, live, candidate, backtest.Options{Stream: b.Stream, Filter: b.Filter, Last: last, Examples: 2})
}
