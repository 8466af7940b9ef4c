package telemetry

import "github.com/prometheus/client_golang/prometheus"

// BuildMetrics is how every package's NewMetrics builds its metrics: build
// creates them with r's constructors (r.CounterVec and the like), each of
// which registers what it creates on reg, so that no collector is defined
// and left unregistered. It returns what build returned, or the first
// error registering failed with, naming what ("email") was registered (see
// Register):
//
//	return telemetry.BuildMetrics(reg, "email", func(r *telemetry.Registrar) *Metrics {
//		return &Metrics{
//			mailsRead: r.CounterVec("switchboard_email_mails_read_total", "Mails ...", "account"),
//		}
//	})
func BuildMetrics[M any](reg prometheus.Registerer, what string, build func(r *Registrar) *M) (*M, error) {
	r := &Registrar{reg: reg, what: what}
	m := build(r)
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// Registrar creates collectors from their name, help and labels and
// registers each as it is created; registering stops at the first error.
// BuildMetrics hands one to a package's build function.
type Registrar struct {
	reg  prometheus.Registerer
	what string
	err  error
}

// Register registers collectors r did not create (such as the Go
// collector), unless registering already failed.
func (r *Registrar) Register(cs ...prometheus.Collector) {
	if r.err == nil {
		r.err = Register(r.reg, r.what, cs...)
	}
}

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
