// Package reroute sends an item to other teams on an operator's word
// (switchboard reroute, the console's reroute button, POST
// /v1/messages/{id}/reroute) and records the correction.
//
// A reroute does not deliver by itself: it publishes the item's envelope
// again to the ingest stream (the copy the ingest stream holds at the
// decision record's sequence), with headers naming the teams, the
// operator and the note (router.HeaderRerouteTeam and the others). The
// router routes that copy to those teams, so a reroute has every
// guarantee of routing: it survives a restart, it is retried and
// dead-lettered like any item, every target gets it once (targets are
// idempotent per <id>:<team>), and the decision record gains a reroute
// event. The copy's Nats-Msg-Id is "<id>:reroute:<teams>", so the same
// request made twice is stored once (within the ingest stream's duplicate
// window; after it, a request for the teams the item already went to by
// a reroute changes nothing either).
//
// The correction (router/corrections) keeps where the item had gone, what
// had decided that, the rules version and a snapshot of the text, for
// rules report and for a model that learns from corrections.
package reroute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
)

// Records finds an item's decision record; *decisions.Store is one.
type Records interface {
	Get(ctx context.Context, id string) (*decisions.Record, error)
}

// Corrections stores corrections; *corrections.Store is one.
type Corrections interface {
	Put(ctx context.Context, c *corrections.Correction) (duplicate bool, err error)
}

// Rerouter reroutes items. Its zero value is not usable; fill every field
// but Now.
type Rerouter struct {
	// JS is the JetStream API; IngestStream the ingest stream's name.
	JS           jetstream.JetStream
	IngestStream string
	// Records finds where an item went; Corrections keeps the corrections.
	Records     Records
	Corrections Corrections
	// Teams lists the teams of the rules in force.
	Teams func() []string
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Request is one reroute.
type Request struct {
	// ID is the item's envelope id.
	ID string `json:"id"`
	// Team is the item's new owner; Also other teams that get it too.
	Team string   `json:"team"`
	Also []string `json:"also,omitempty"`
	// By names the operator; Note says why. Both are kept in the item's
	// history and the correction.
	By   string `json:"by,omitempty"`
	Note string `json:"note,omitempty"`
}

// Result is what a reroute did.
type Result struct {
	// ID and Teams are the item and where it is being sent.
	ID    string   `json:"id"`
	Teams []string `json:"teams"`
	// From are the teams it had gone to.
	From []string `json:"from"`
	// IngestSeq is the rerouted copy's sequence in the ingest stream.
	IngestSeq uint64 `json:"ingest_seq,omitempty"`
	// Duplicate says the same reroute was asked for before: nothing new
	// was published or recorded.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Errors a caller can tell apart (the HTTP handler's status codes).
var (
	// ErrNotFound: no decision record for the id (never routed, expired,
	// not an item id).
	ErrNotFound = errors.New("no such item")
	// ErrBadRequest: the request names no team, or a team the rules in
	// force do not declare.
	ErrBadRequest = errors.New("bad reroute request")
	// ErrGone: the item is no longer in the ingest stream (older than its
	// max_age), so there is nothing to deliver.
	ErrGone = errors.New("item no longer stored")
)

// Bounds on what an operator's words add to headers and records.
const (
	maxBy   = 128
	maxNote = 1000
)

// Reroute sends item id to teams (the first one owns it) on an operator's
// word; by names the operator. It is the console's hook
// (console.Rerouter).
func (rr *Rerouter) Reroute(ctx context.Context, id string, teams []string, by string) error {
	if len(teams) == 0 {
		return fmt.Errorf("%w: choose a team", ErrBadRequest)
	}
	_, err := rr.Do(ctx, Request{ID: id, Team: teams[0], Also: teams[1:], By: by})
	return err
}

// Do reroutes one item: it checks the teams against the rules in force,
// finds where the item went (its decision record) and its envelope (the
// ingest stream), publishes the rerouted copy and stores the correction.
func (rr *Rerouter) Do(ctx context.Context, req Request) (Result, error) {
	teams, err := rr.teams(req)
	if err != nil {
		return Result{}, err
	}
	req.By, req.Note = clean(req.By, maxBy), clean(req.Note, maxNote)
	rec, err := rr.Records.Get(ctx, req.ID)
	if errors.Is(err, decisions.ErrNotFound) {
		return Result{}, fmt.Errorf("%w: no decision record for %s (not routed yet, expired, or not an item id)", ErrNotFound, req.ID)
	}
	if err != nil {
		return Result{}, fmt.Errorf("rerouting %s: %w", req.ID, err)
	}
	res := Result{ID: req.ID, Teams: teams, From: rec.Teams}
	if rec.Reason == decisions.ReasonReroute && slices.Equal(rec.Teams, teams) {
		res.Duplicate = true // done before: the record says so
		return res, nil
	}
	stored, err := rr.original(ctx, rec)
	if err != nil {
		return Result{}, err
	}
	var env message.Envelope
	if err := json.Unmarshal(stored.Data, &env); err != nil {
		return Result{}, fmt.Errorf("rerouting %s: the stored message is not an envelope: %w", req.ID, err)
	}
	m := nats.NewMsg(stored.Subject)
	m.Data = stored.Data
	m.Header.Set(router.HeaderRerouteTeam, strings.Join(teams, ","))
	if req.By != "" {
		m.Header.Set(router.HeaderRerouteBy, req.By)
	}
	if req.Note != "" {
		m.Header.Set(router.HeaderRerouteNote, req.Note)
	}
	ack, err := rr.JS.PublishMsg(ctx, m, jetstream.WithMsgID(req.ID+":reroute:"+strings.Join(teams, ",")), jetstream.WithExpectStream(rr.IngestStream))
	if err != nil {
		return Result{}, fmt.Errorf("rerouting %s: publishing to %s: %w", req.ID, stored.Subject, err)
	}
	res.IngestSeq, res.Duplicate = ack.Sequence, ack.Duplicate
	c := &corrections.Correction{
		ID: req.ID, From: rec.Teams, To: teams[0], Also: teams[1:], DecidedBy: corrections.DecidedBy(rec),
		RulesVersion: rec.RulesVersion, Model: rec.Model, By: req.By, Note: req.Note, At: rr.now().UTC(),
		Channel: env.Channel, Kind: string(env.Kind), Lang: firstOf(env.Lang, rec.Lang),
		Subject: message.Cut(env.Subject, corrections.MaxTextBytes),
		Text:    message.Cut(env.Text, corrections.MaxTextBytes),
	}
	for _, r := range rec.Routes {
		c.Routes = append(c.Routes, r.ID)
	}
	if _, err := rr.Corrections.Put(ctx, c); err != nil {
		// The item is on its way; asking again publishes nothing new
		// (the same message id) and stores the correction.
		return res, fmt.Errorf("rerouting %s: the item is rerouted, but its correction is not stored (ask again to store it): %w", req.ID, err)
	}
	return res, nil
}

// teams validates the request's teams against the rules in force: the
// new owner first, each team once.
func (rr *Rerouter) teams(req Request) ([]string, error) {
	if strings.TrimSpace(req.ID) == "" {
		return nil, fmt.Errorf("%w: the item id is missing", ErrBadRequest)
	}
	if req.Team == "" {
		return nil, fmt.Errorf("%w: name the team the item belongs to", ErrBadRequest)
	}
	known := rr.Teams()
	var teams []string
	for _, t := range append([]string{req.Team}, req.Also...) {
		if !slices.Contains(known, t) {
			return nil, fmt.Errorf("%w: team %q is not in the rules in force (%s)", ErrBadRequest, t, strings.Join(known, ", "))
		}
		if !slices.Contains(teams, t) {
			teams = append(teams, t)
		}
	}
	return teams, nil
}

// original reads the item's message from the ingest stream, at the
// sequence its decision record names.
func (rr *Rerouter) original(ctx context.Context, rec *decisions.Record) (*jetstream.RawStreamMsg, error) {
	s, err := rr.JS.Stream(ctx, rr.IngestStream)
	if err != nil {
		return nil, fmt.Errorf("rerouting %s: opening %s: %w", rec.ID, rr.IngestStream, err)
	}
	m, err := s.GetMsg(ctx, rec.Seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w: %s is no longer in %s (older than its max_age); there is nothing to deliver", ErrGone, rec.ID, rr.IngestStream)
	}
	if err != nil {
		return nil, fmt.Errorf("rerouting %s: reading %s at %d: %w", rec.ID, rr.IngestStream, rec.Seq, err)
	}
	return m, nil
}

func (rr *Rerouter) now() time.Time {
	if rr.Now != nil {
		return rr.Now()
	}
	return time.Now()
}

// clean makes an operator's words fit a header: control characters become
// spaces, and the text is cut to n bytes.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	return message.Cut(s, n)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
