// Package corrections keeps what operators corrected: every item rerouted
// to another team (switchboard reroute, the console, POST
// /v1/messages/{id}/reroute) leaves a correction with where the item had
// gone, what decided that (the route, the model or the context), the rules
// version, who rerouted it to which team and why, and a snapshot of its
// text. Rules that say learn_from_corrections: true train their model on
// the newest of them at the next reload (Newest, ToRules); switchboard
// rules report counts them per route and per team (NewReport).
//
// Corrections live in their own JetStream stream, one subject per team and
// item (<prefix>.correction.<team>.<hash of the item id>), kept for
// MaxAge and at most MaxMsgs of them, the oldest dropped first: longer
// than the ingest stream keeps items, because they are training data.
// Delete erases an item's corrections (a GDPR erasure).
package corrections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/streamstore"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/rules"
)

// Version is the version of the correction format written by this build.
const Version = 1

// Retention of the corrections stream.
const (
	// MaxAge is how long a correction is kept.
	MaxAge = 180 * 24 * time.Hour
	// MaxMsgs bounds the corrections kept; the oldest go first.
	MaxMsgs = 100_000
	// Duplicates is the stream's duplicate window: the same correction
	// stored twice within it is stored once.
	Duplicates = 10 * time.Minute
	// MaxTextBytes bounds the text snapshot of a correction: the start of
	// the item's subject and text is what the model learns from.
	MaxTextBytes = 8 << 10
)

// Decided-by values for what had decided the item's team, besides a route
// id.
const (
	// ByModel: the rules' model chose the team (no route named one).
	ByModel = "(model)"
)

// Correction is one item an operator rerouted.
type Correction struct {
	// V is the format version (Version).
	V int `json:"v"`
	// ID is the item's envelope id.
	ID string `json:"id"`
	// From are the teams the item had gone to; To the team it belongs to
	// (its new owner); Also other teams the operator sent it to.
	From []string `json:"from"`
	To   string   `json:"to"`
	Also []string `json:"also,omitempty"`
	// DecidedBy says what had chosen From: a route id, ByModel, or the
	// context that decided ("(parent)", "(conversation)", "(case)",
	// "(default)", "(reroute)", "(replay)").
	DecidedBy string `json:"decided_by"`
	// Routes are the routes that had matched, RulesVersion the rules that
	// decided, Model the model's top teams then.
	Routes       []string          `json:"routes,omitempty"`
	RulesVersion string            `json:"rules_version,omitempty"`
	Model        []decisions.Score `json:"model,omitempty"`
	// By names who rerouted it, Note why.
	By   string `json:"by,omitempty"`
	Note string `json:"note,omitempty"`
	// At is when it was rerouted.
	At time.Time `json:"at"`
	// Channel, Kind, Lang, Subject and Text are the item's, for training
	// (the text cut to MaxTextBytes).
	Channel string `json:"channel"`
	Kind    string `json:"kind,omitempty"`
	Lang    string `json:"lang,omitempty"`
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text"`
}

// DecidedBy names what decided a record's teams, for Correction.DecidedBy:
// the deciding route, the model, or the context that decided.
func DecidedBy(rec *decisions.Record) string {
	switch {
	case rec.Reason == decisions.ReasonText && rec.ModelDecided:
		return ByModel
	case rec.Reason == decisions.ReasonText && rec.Route != "":
		return rec.Route
	case rec.Reason == decisions.ReasonText && len(rec.Routes) > 0:
		return rec.Routes[len(rec.Routes)-1].ID
	case rec.Reason == "":
		return "(unknown)"
	}
	return "(" + rec.Reason + ")"
}

// Config names the stream corrections are kept in.
type Config struct {
	// Stream is the stream's name; Subjects the subject prefix
	// (bus.Subjects.Corrections).
	Stream, Subjects string
	// Replicas is the stream's replica count.
	Replicas int
}

// Store reads and writes corrections.
type Store struct {
	stream *streamstore.Stream
}

// Open creates (or updates) the corrections stream and returns its store.
func Open(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	st, err := streamstore.Open(ctx, js, "corrections", c.Subjects, jetstream.StreamConfig{
		Name:        c.Stream,
		Description: "Switchboard: operators' corrections (rerouted items), the model's training data",
		MaxAge:      MaxAge,
		MaxMsgs:     MaxMsgs,
		Duplicates:  Duplicates,
		Replicas:    c.Replicas,
	})
	if err != nil {
		return nil, err
	}
	return &Store{stream: st}, nil
}

// Attach returns the store of an existing corrections stream without
// creating or changing it: for client tools. jetstream.ErrStreamNotFound
// means no daemon has started with corrections yet.
func Attach(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	st, err := streamstore.Attach(ctx, js, "corrections", c.Stream, c.Subjects)
	if err != nil {
		return nil, err
	}
	return &Store{stream: st}, nil
}

// Put stores c and reports whether the stream already held it: the same
// item corrected to the same teams is stored once within the stream's
// duplicate window.
func (s *Store) Put(ctx context.Context, c *Correction) (duplicate bool, err error) {
	if c.ID == "" || c.To == "" {
		return false, errors.New("storing a correction: the item id and the team are required")
	}
	c.V = Version
	data, err := json.Marshal(c)
	if err != nil {
		return false, fmt.Errorf("encoding the correction of %s: %w", c.ID, err)
	}
	msgID := "correction:" + c.ID + ":" + strings.Join(append([]string{c.To}, c.Also...), ",")
	ack, err := s.stream.JS.Publish(ctx, s.stream.Subject(c.To, c.ID), data, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(s.stream.Name))
	if err != nil {
		return false, fmt.Errorf("storing the correction of %s: %w", c.ID, err)
	}
	return ack.Duplicate, nil
}

// Delete erases every correction of item id (a GDPR erasure) and returns
// how many there were.
func (s *Store) Delete(ctx context.Context, id string) (int, error) {
	subject := s.stream.Subject("*", id)
	info, err := s.stream.Handle.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return 0, fmt.Errorf("counting the corrections of %s: %w", id, err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.stream.Handle.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return 0, fmt.Errorf("deleting the corrections of %s: %w", id, err)
	}
	return n, nil
}

// List returns the corrections stored at or after since (zero: all),
// oldest first.
func (s *Store) List(ctx context.Context, since time.Time) ([]Correction, error) {
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{s.stream.Prefix + ".>"}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	return s.read(ctx, occ)
}

// Newest returns the newest n corrections, oldest first.
func (s *Store) Newest(ctx context.Context, n int) ([]Correction, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading corrections stream %s: %w", s.stream.Name, err)
	}
	if info.State.Msgs == 0 || n <= 0 {
		return nil, nil
	}
	start := info.State.FirstSeq
	if last := info.State.LastSeq; last >= uint64(n) && last-uint64(n)+1 > start {
		start = last - uint64(n) + 1
	}
	return s.read(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{s.stream.Prefix + ".>"},
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
}

// read reads what occ delivers, up to the end of the stream as it was
// when reading began.
func (s *Store) read(ctx context.Context, occ jetstream.OrderedConsumerConfig) ([]Correction, error) {
	var out []Correction
	err := streamstore.ReadPending(ctx, s.stream.JS, s.stream.Name, occ, 5*time.Second, func(m jetstream.Msg, _ *jetstream.MsgMetadata) {
		var c Correction
		if json.Unmarshal(m.Data(), &c) != nil || c.ID == "" || c.To == "" {
			return // not a correction this build can read
		}
		out = append(out, c)
	})
	if err != nil {
		return nil, fmt.Errorf("reading corrections stream %s: %w", s.stream.Name, err)
	}
	return out, nil
}

// ToRules turns corrections into the rules' training input: each item
// labelled with the team it was rerouted to.
func ToRules(cs []Correction) []rules.Correction {
	out := make([]rules.Correction, 0, len(cs))
	for _, c := range cs {
		out = append(out, rules.Correction{ID: c.ID, Team: c.To, Channel: c.Channel, Subject: c.Subject, Text: c.Text, Lang: c.Lang, At: c.At})
	}
	return out
}
