package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/reroute"
	"github.com/switchboard/switchboard/rules"
)

// correctionsConfig names the corrections stream: the daemon creates it,
// reroute and rules report attach to it.
func correctionsConfig(cfg *config.Config) corrections.Config {
	subjects := bus.NewSubjects(cfg.Streams)
	return corrections.Config{Stream: subjects.CorrectionStream, Subjects: subjects.Corrections(), Replicas: cfg.Streams.Replicas}
}

// modelCorrections reads the newest corrections for the rules' model
// (WatchOptions.Corrections).
func modelCorrections(store *corrections.Store) func(context.Context) ([]rules.Correction, error) {
	return func(ctx context.Context) ([]rules.Correction, error) {
		cs, err := store.Newest(ctx, rules.MaxCorrections)
		if err != nil {
			return nil, err
		}
		return corrections.ToRules(cs), nil
	}
}

// learnAtStart loads the rules again with the operators' corrections when
// they learn from them (the first load, before NATS was up, had none). A
// stream that cannot be read leaves rs as it is, with a warning.
func learnAtStart(ctx context.Context, path string, rs *rules.Rules, store *corrections.Store, log *zap.Logger) (*rules.Rules, error) {
	if !rs.LearnsFromCorrections() {
		return rs, nil
	}
	cs, err := modelCorrections(store)(ctx)
	if err != nil {
		log.Warn("cannot read the operators' corrections; the model starts without them (the next reload retries)", zap.Error(err))
		return rs, nil
	}
	next, err := rules.LoadWith(path, rules.LoadOptions{Corrections: cs})
	if err != nil {
		return nil, fmt.Errorf("loading rules with corrections: %w", err)
	}
	st := next.ModelStats()
	log.Info("the model learned from the operators' corrections", zap.Int("corrections", st.Corrections), zap.Int("examples", st.Examples),
		zap.String("model_version", next.ModelVersion()))
	return next, nil
}

// newRerouter reroutes items for the console, POST
// /v1/messages/{id}/reroute and switchboard reroute, checking teams
// against the rules in force.
func newRerouter(b *bus.Bus, records *decisions.Store, store *corrections.Store, live *rules.Live) *reroute.Rerouter {
	return &reroute.Rerouter{
		JS: b.JS, IngestStream: b.Subjects.IngestStream, Records: records, Corrections: store,
		Teams: func() []string { return teamNames(live.Current()) },
	}
}

// teamNames lists the teams r declares.
func teamNames(r *rules.Rules) []string {
	var out []string
	for _, t := range r.Teams() {
		out = append(out, t.Name)
	}
	return out
}
