// Package casetest opens the customer and case stores that the router
// links messages with, for tests on an embedded backbone.
package casetest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/router/cases"
)

// Open opens on js a customer store that recognises customers by ident
// (8 MiB at most) and a case store in bucket test_cases (a 2-hour window,
// cases kept a day), failing t when it cannot; the customer store is
// closed when the test ends.
func Open(ctx context.Context, t testing.TB, js jetstream.JetStream, ident identity.Config) (*customer.Store, *cases.Store) {
	t.Helper()
	custs, err := customer.Open(ctx, js, customer.Config{Identity: ident, MaxBytes: 8 << 20})
	if err != nil {
		t.Fatalf("opening the customer store: %v", err)
	}
	t.Cleanup(func() { _ = custs.Close(context.Background()) })
	cs, err := cases.Open(ctx, js, cases.Config{Bucket: "test_cases", Window: 2 * time.Hour, TTL: 24 * time.Hour})
	if err != nil {
		t.Fatalf("opening the case store: %v", err)
	}
	return custs, cs
}
