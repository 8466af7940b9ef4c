package main

import (
	"context"
	"time"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/router/cases"
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
	d.cases, err = cases.Open(ctx, d.bus.JS, cases.Config{Bucket: c.Cases.Bucket, Window: time.Duration(c.Cases.Window),
		TTL: time.Duration(c.Cases.TTL), Replicas: d.cfg.Streams.Replicas})
	return err
}

// closeCustomers stops the customer store's cache watch after the router stopped.
func (d *daemon) closeCustomers(ctx context.Context) error {
	if d.customers == nil {
		return nil
	}
	return d.customers.Close(ctx)
}
