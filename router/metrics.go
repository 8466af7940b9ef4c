package router

import "time"

// Metrics is what the router reports; telemetry.RouterMetrics satisfies
// it. Target labels come from targets.Target.Name and never hold a
// credential. A nil Metrics is allowed.
type Metrics interface {
	// Routed counts an item that every target of team accepted, with the
	// time since the item was ingested.
	Routed(team string, sinceIngest time.Duration)
	// Delivered counts one target's acceptance and how long the attempt took.
	Delivered(team, target string, took time.Duration)
	// Retried counts a failed attempt at a target that will be retried;
	// reason is "error", "circuit_open", or "stream_full" / "store_full"
	// when the team stream or the JetStream store refused the item.
	Retried(team, target, reason string)
	// DeadLettered counts an item (or one team's copy of it) sent to the
	// dead-letter stream; team and target are "" when none applies.
	DeadLettered(reason, team, target string)
	// Redelivery counts an ingest message handed back for a later retry.
	Redelivery(reason string)
	// Noise counts an item the rules marked as noise.
	Noise()
	// QueueDepth reports how many items a team's queue at target holds.
	QueueDepth(team, target string, depth int64)
	// CircuitOpen reports whether target's breaker for team is open.
	CircuitOpen(team, target string, open bool)
}

type nopMetrics struct{}

func (nopMetrics) Routed(string, time.Duration)            {}
func (nopMetrics) Delivered(string, string, time.Duration) {}
func (nopMetrics) Retried(string, string, string)          {}
func (nopMetrics) DeadLettered(string, string, string)     {}
func (nopMetrics) Redelivery(string)                       {}
func (nopMetrics) Noise()                                  {}
func (nopMetrics) QueueDepth(string, string, int64)        {}
func (nopMetrics) CircuitOpen(string, string, bool)        {}
