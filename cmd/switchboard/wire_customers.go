package main

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/customer/admin"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
)

// routerContext is what the router decides with besides the rules: where
// earlier items went (decision records), who wrote the item (customers)
// and the customer's open cases. Nil parts turn that context off.
type routerContext struct {
	records   *decisions.Store
	customers *customer.Store
	cases     *cases.Store
}

// openCustomers opens the customer store and the cases (customers.enabled).
func (d *daemon) openCustomers(ctx context.Context) (err error) {
	c := d.cfg.Customers
	if !c.On() {
		d.log.Info("customer model off (customers.enabled: false): items carry no customer or case")
		return nil
	}
	d.customers, err = customer.Open(ctx, d.bus.JS, c.Store(d.cfg.Streams))
	if err != nil {
		return err
	}
	d.cases, err = cases.Open(ctx, d.bus.JS, casesConfig(c, d.cfg.Streams))
	return err
}

// casesConfig is the case store's configuration from the customers section
// and the streams' replica count.
func casesConfig(c config.Customers, streams config.Streams) cases.Config {
	return cases.Config{Bucket: c.Cases.Bucket, Window: time.Duration(c.Cases.Window), TTL: time.Duration(c.Cases.TTL),
		Replicas: streams.Replicas}
}

// closeCustomers stops the customer store's cache watch after the router stopped.
func (d *daemon) closeCustomers(ctx context.Context) error {
	if d.customers == nil {
		return nil
	}
	return d.customers.Close(ctx)
}

// newCustomerAdmin is the ops view of customers over the stores the daemon
// (or a command) has open: the conversation map is opened here, the rest
// is given (a nil records or fixes: none stored yet). Without a customer
// store there is nothing to administer.
func newCustomerAdmin(ctx context.Context, cfg *config.Config, js jetstream.JetStream, custs *customer.Store, cs *cases.Store,
	records *decisions.Store, fixes *corrections.Store) (*admin.Admin, error) {
	subjects := bus.NewSubjects(cfg.Streams)
	a := &admin.Admin{Customers: custs, Cases: cs, Records: records, Corrections: fixes, JS: js,
		IngestStream: cfg.Streams.Ingest.Name, TeamStream: cfg.Streams.Team.Name,
		Dead: router.NewDeadLetters(js, subjects.DeadStream, subjects.IngestStream, subjects.Dead)}
	if ts := cfg.Delivery.ThreadStickiness; ts.On() {
		_, threads, err := router.OpenState(ctx, js, router.StateConfig{ProgressBucket: cfg.Delivery.ProgressBucket,
			ThreadBucket: ts.Bucket, ThreadTTL: time.Duration(ts.TTL), Replicas: cfg.Streams.Replicas})
		if err != nil {
			return nil, err
		}
		a.Threads = threads
	}
	return a, nil
}

// mountCustomers serves /v1/customers/... behind the ops token.
func (d *daemon) mountCustomers(ctx context.Context) error {
	if d.customers == nil {
		return nil
	}
	a, err := newCustomerAdmin(ctx, d.cfg, d.bus.JS, d.customers, d.cases, d.records, d.fixes)
	if err != nil {
		return err
	}
	admin.Mount(d.mux, d.ops, a)
	return nil
}
