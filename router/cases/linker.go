package cases

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/internal/message"
)

// Linker is the router's view of customers: it links an item's identity
// keys into its customer (customer.Store.Observe) and, when the item showed
// that two customers are one, moves the merged customer's cases.
type Linker struct {
	// Customers is the customer store.
	Customers *customer.Store
	// Cases are the customers' cases (nil: none to move).
	Cases *Store
	// Log receives what could not be moved (nil: nothing is logged).
	Log *zap.Logger
}

// Link returns the customer env's author belongs to, or nil when env yields
// no identity key. On error it still returns what was established.
func (l Linker) Link(ctx context.Context, env *message.Envelope) (*message.Customer, error) {
	res, err := l.Customers.Observe(ctx, env)
	if l.Cases != nil {
		for _, ch := range res.Changes {
			if len(ch.To) == 0 {
				continue
			}
			if merr := l.Cases.Move(ctx, ch.From, ch.To[0], time.Now().UTC()); merr != nil && l.Log != nil {
				l.Log.Warn("moving a merged customer's cases failed; they stay with the old id until they expire",
					zap.String("from", ch.From), zap.String("to", ch.To[0]), zap.Error(merr))
			}
		}
	}
	if res.Customer == nil {
		return nil, err
	}
	return &message.Customer{ID: res.Customer.ID, Strength: string(res.Customer.Strength), Channels: res.Customer.Channels}, err
}
