package main

import (
	"context"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/router/decisions"
)

// storeRecorder writes the router's decision records to the store, adding
// each attempt's deliveries and events to what the item's record holds.
//
// MINIMAL HOOK from the console work (see router.Recorder); the lead's
// wiring of decision records replaces it.
type storeRecorder struct {
	store *decisions.Store
	log   *zap.Logger
}

// Record implements router.Recorder.
func (s storeRecorder) Record(ctx context.Context, rec *decisions.Record) {
	_, err := s.store.Update(ctx, rec.ID, func(cur *decisions.Record) (*decisions.Record, error) {
		if cur == nil {
			return rec, nil
		}
		next := *rec
		next.Delivery, next.History = cur.Delivery, cur.History
		if !cur.RoutedAt.IsZero() {
			next.RoutedAt = cur.RoutedAt
		}
		next.Customer, next.Case, next.Model, next.Followed, next.Conversation = cur.Customer, cur.Case, cur.Model, cur.Followed, cur.Conversation
		for _, d := range rec.Delivery {
			next.SetDelivery(d)
		}
		for _, e := range rec.History {
			next.AddEvent(e)
		}
		return &next, nil
	})
	if err != nil {
		s.log.Warn("decision record not stored", zap.Error(err))
	}
}
