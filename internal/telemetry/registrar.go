package telemetry

import "github.com/prometheus/client_golang/prometheus"

// Registrar builds a package's collectors from their name, help and labels
// and registers each on a registry (through Register) as it is built, so
// that a collector cannot be defined and forgotten at registration.
// Registering stops at the first error, which Err returns. NewMetrics of
// every package builds its metrics with one:
//
//	r := telemetry.NewRegistrar(reg, "email")
//	m := &Metrics{
//		mailsRead: r.CounterVec("switchboard_email_mails_read_total", "Mails ...", "account"),
//	}
//	if err := r.Err(); err != nil {
//		return nil, err
//	}
type Registrar struct {
	reg  prometheus.Registerer
	what string
	err  error
}

// NewRegistrar returns a Registrar registering what's ("email") metrics on
// reg.
func NewRegistrar(reg prometheus.Registerer, what string) *Registrar {
	return &Registrar{reg: reg, what: what}
}

// Register registers collectors r did not build (such as the Go
// collector), unless registering already failed.
func (r *Registrar) Register(cs ...prometheus.Collector) {
	if r.err == nil {
		r.err = Register(r.reg, r.what, cs...)
	}
}

// Err returns the first error registering failed with (see Register), or
// nil when every collector is registered.
func (r *Registrar) Err() error { return r.err }

// Counter returns a registered counter.
func (r *Registrar) Counter(name, help string) prometheus.Counter {
	return register(r, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}))
}

// CounterVec returns a registered counter partitioned by labels.
func (r *Registrar) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return register(r, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

// Gauge returns a registered gauge.
func (r *Registrar) Gauge(name, help string) prometheus.Gauge {
	return register(r, prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help}))
}

// GaugeVec returns a registered gauge partitioned by labels.
func (r *Registrar) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return register(r, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels))
}

// Histogram returns a registered histogram with the buckets' upper bounds.
func (r *Registrar) Histogram(name, help string, buckets []float64) prometheus.Histogram {
	return register(r, prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}))
}

// HistogramVec returns a registered histogram with the buckets' upper
// bounds, partitioned by labels.
func (r *Registrar) HistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return register(r, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels))
}

// register registers c on r and returns it.
func register[C prometheus.Collector](r *Registrar, c C) C {
	r.Register(c)
	return c
}
