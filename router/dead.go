package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/streamstore"
)

// Dead-letter reasons (the last subject token of <prefix>.dead.<reason>).
const (
	// ReasonMalformed: the ingest message is not a JSON envelope.
	ReasonMalformed = "malformed"
	// ReasonInvalid: JSON, but the envelope fails validation.
	ReasonInvalid = "invalid"
	// ReasonDeliveryFailed: a team's target kept failing until the maximum
	// number of deliveries.
	ReasonDeliveryFailed = "delivery_failed"
	// ReasonRejected: a team's target refused the item itself (a 4xx
	// answer, a payload too large); retrying cannot help.
	ReasonRejected = "rejected"
	// ReasonUnknownTeam: the item was routed to a team that the rules in
	// force no longer declare (removed by a reload while the item was being
	// retried).
	ReasonUnknownTeam = "unknown_team"
)

// Replay headers, set by DeadLetters.Replay on the republished message.
const (
	// HeaderReplayOf is the dead-letter stream sequence being replayed.
	HeaderReplayOf = "Switchboard-Replay-Of"
	// HeaderReplayTeam restricts a replayed item to the team whose delivery
	// failed, so teams that already have it are not sent it again. When the
	// rules in force no longer declare that team, the item is routed afresh.
	HeaderReplayTeam = "Switchboard-Replay-Team"
	// HeaderReplaySkip lists (comma-separated) the ids of the team's targets
	// that had accepted the item before it was dead-lettered; the replay
	// skips them, so it duplicates nothing even after the targets' own
	// dedup windows passed.
	HeaderReplaySkip = "Switchboard-Replay-Skip"
)

// DeadLetter is the body of a message in the dead-letter stream: the
// original message, untouched, and why it is there.
type DeadLetter struct {
	// Reason is why the item is here (one of the Reason constants).
	Reason string `json:"reason"`
	// Error is the last error, as text.
	Error string `json:"error"`
	// Team is the team whose copy failed, when one did; the item's other
	// teams received theirs.
	Team string `json:"team,omitempty"`
	// Target names the failing target (as in metrics), when one did.
	Target string `json:"target,omitempty"`
	// Accepted lists the ids of Team's targets that had accepted the item
	// (a team with several targets can fail at one); a replay skips them.
	Accepted []string `json:"accepted,omitempty"`
	// RulesVersion is the version of the rules that routed the item.
	RulesVersion string `json:"rules_version,omitempty"`
	// Subject and StreamSeq locate the original in the ingest stream.
	Subject   string `json:"subject"`
	StreamSeq uint64 `json:"stream_seq"`
	// Deliveries is how many times the router tried.
	Deliveries uint64 `json:"deliveries"`
	// FailedAt is when the item was dead-lettered.
	FailedAt time.Time `json:"failed_at"`
	// ReplayOf is the dead-letter sequence this item was replayed from, if
	// it was.
	ReplayOf uint64 `json:"replay_of,omitempty"`
	// Envelope is the original message when it is JSON.
	Envelope json.RawMessage `json:"envelope,omitempty"`
	// Raw is the original message when it is not JSON but valid UTF-8.
	Raw string `json:"raw,omitempty"`
	// RawBytes is the original message (base64 in JSON) when it is neither.
	RawBytes []byte `json:"raw_base64,omitempty"`
}

// original returns the original message bytes.
func (dl *DeadLetter) original() []byte {
	switch {
	case len(dl.Envelope) > 0:
		return dl.Envelope
	case dl.Raw != "":
		return []byte(dl.Raw)
	}
	return dl.RawBytes
}

// DeadEntry is a stored dead letter with its place in the stream.
type DeadEntry struct {
	// Seq is the dead letter's sequence in the dead-letter stream; `dead
	// replay --id` takes it.
	Seq uint64 `json:"seq"`
	// Stored is when the dead-letter stream stored it.
	Stored time.Time `json:"stored_at"`
	DeadLetter
}

// EnvelopeID returns the id of the dead letter's envelope, or "".
func (e *DeadEntry) EnvelopeID() string {
	var v struct {
		ID string `json:"id"`
	}
	if len(e.Envelope) == 0 || json.Unmarshal(e.Envelope, &v) != nil {
		return ""
	}
	return v.ID
}

// deadFailure is what the router knows about a failure when it
// dead-letters.
type deadFailure struct {
	reason, team, target, rulesVersion string
	accepted                           []string
	cause                              error
}

// DeadLetters writes, lists and replays the dead-letter stream.
type DeadLetters struct {
	js           jetstream.JetStream
	stream       string
	ingestStream string
	subject      func(reason string) string
	now          func() time.Time
}

// NewDeadLetters uses stream, with subjects subject(reason); replays go
// back into ingestStream.
func NewDeadLetters(js jetstream.JetStream, stream, ingestStream string, subject func(reason string) string) *DeadLetters {
	return &DeadLetters{js: js, stream: stream, ingestStream: ingestStream, subject: subject, now: time.Now}
}

// put stores the original of msg with why it failed; it returns after the
// stream acked. The Nats-Msg-Id is the ingest sequence and team, so doing it
// twice within the dead stream's duplicate window stores it once.
func (d *DeadLetters) put(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, f deadFailure) error {
	dl := DeadLetter{
		Reason:       f.reason,
		Team:         f.team,
		Target:       f.target,
		Accepted:     f.accepted,
		RulesVersion: f.rulesVersion,
		Subject:      msg.Subject(),
		StreamSeq:    meta.Sequence.Stream,
		Deliveries:   meta.NumDelivered,
		FailedAt:     d.now().UTC(),
	}
	if f.cause != nil {
		dl.Error = f.cause.Error()
	}
	if h := msg.Headers(); h != nil {
		dl.ReplayOf, _ = strconv.ParseUint(h.Get(HeaderReplayOf), 10, 64)
	}
	switch data := msg.Data(); {
	case json.Valid(data):
		dl.Envelope = json.RawMessage(data)
	case utf8.Valid(data):
		dl.Raw = string(data)
	default:
		dl.RawBytes = data
	}
	data, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encoding dead letter: %w", err)
	}
	m := &nats.Msg{Subject: d.subject(f.reason), Data: data}
	id := "dead:" + strconv.FormatUint(meta.Sequence.Stream, 10) + ":" + f.team
	if _, err := d.js.PublishMsg(ctx, m, jetstream.WithMsgID(id), jetstream.WithExpectStream(d.stream)); err != nil {
		return fmt.Errorf("publishing dead letter to %s: %w", m.Subject, err)
	}
	return nil
}

// DeadQuery selects dead letters.
type DeadQuery struct {
	// Reason selects one reason; empty: all.
	Reason string
	// Since selects dead letters stored at or after it; zero: all.
	Since time.Time
	// Limit keeps the most recent Limit entries; 0: all.
	Limit int
}

// List returns the dead letters q selects, oldest first. An entry whose
// body cannot be decoded is returned with its Error saying so and the body
// in Raw, so nothing in the stream is hidden.
func (d *DeadLetters) List(ctx context.Context, q DeadQuery) ([]DeadEntry, error) {
	filter := d.subject(">")
	if q.Reason != "" {
		filter = d.subject(q.Reason)
	}
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !q.Since.IsZero() {
		since := q.Since
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	var out []DeadEntry
	err := streamstore.ReadPending(ctx, d.js, d.stream, occ, 2*time.Second, func(m jetstream.Msg, meta *jetstream.MsgMetadata) {
		out = append(out, decodeDead(meta.Sequence.Stream, meta.Timestamp, m.Data()))
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[1:]
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading dead-letter stream %s: %w", d.stream, err)
	}
	return out, nil
}

// Forget deletes the dead letters whose envelope is one of the items ids
// names (a GDPR erasure) and returns their sequences. A dead letter whose
// body does not decode names no item and stays.
func (d *DeadLetters) Forget(ctx context.Context, ids map[string]bool) ([]uint64, error) {
	entries, err := d.List(ctx, DeadQuery{})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil // nothing was ever dead-lettered
	}
	if err != nil {
		return nil, err
	}
	var deleted []uint64
	var s jetstream.Stream
	for _, e := range entries {
		if !ids[e.EnvelopeID()] {
			continue
		}
		if s == nil {
			if s, err = d.js.Stream(ctx, d.stream); err != nil {
				return nil, fmt.Errorf("opening dead-letter stream %s: %w", d.stream, err)
			}
		}
		if err := s.DeleteMsg(ctx, e.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return deleted, fmt.Errorf("deleting dead letter %d from %s: %w", e.Seq, d.stream, err)
		}
		deleted = append(deleted, e.Seq)
	}
	return deleted, nil
}

// Get returns the dead letter at seq.
func (d *DeadLetters) Get(ctx context.Context, seq uint64) (DeadEntry, error) {
	s, err := d.js.Stream(ctx, d.stream)
	if err != nil {
		return DeadEntry{}, fmt.Errorf("opening dead-letter stream %s: %w", d.stream, err)
	}
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return DeadEntry{}, fmt.Errorf("no dead letter %d in %s (replayed already, or expired)", seq, d.stream)
		}
		return DeadEntry{}, fmt.Errorf("reading dead letter %d from %s: %w", seq, d.stream, err)
	}
	return decodeDead(m.Sequence, m.Time, m.Data), nil
}

func decodeDead(seq uint64, stored time.Time, data []byte) DeadEntry {
	e := DeadEntry{Seq: seq, Stored: stored}
	if err := json.Unmarshal(data, &e.DeadLetter); err != nil {
		e.DeadLetter = DeadLetter{Error: "unreadable dead letter: " + err.Error(), RawBytes: data}
	}
	return e
}

// ReplayResult is what Replay did.
type ReplayResult struct {
	// IngestSeq is the new message's sequence in the ingest stream.
	IngestSeq uint64
	// Duplicate says the ingest stream already held this replay (it was
	// replayed before, within the ingest duplicate window): nothing new was
	// stored.
	Duplicate bool
}

// Replay republishes the dead letter's original message to its ingest
// subject so the router drives it again, then deletes the dead letter.
//
// The new message has Nats-Msg-Id "replay:<dead stream>:<seq>": fresh, so
// the ingest stream's dedup of the original id does not drop it, yet stable,
// so replaying the same dead letter twice (a crash between publish and
// delete, two operators) stores it once. It carries HeaderReplayOf and, when
// the dead letter names a team, HeaderReplayTeam and HeaderReplaySkip. The
// team-level idempotency keys stay the envelope's own ("<id>:<team>"),
// deliberately: a target that already accepted the item (one of several
// targets of the failed team) does not get a duplicate, by the skip list
// and by its own dedup; one that did not, gets it.
func (d *DeadLetters) Replay(ctx context.Context, e DeadEntry) (ReplayResult, error) {
	data := e.original()
	if len(data) == 0 {
		return ReplayResult{}, fmt.Errorf("dead letter %d holds no original message", e.Seq)
	}
	if e.Subject == "" {
		return ReplayResult{}, fmt.Errorf("dead letter %d has no ingest subject", e.Seq)
	}
	m := nats.NewMsg(e.Subject)
	m.Data = data
	m.Header.Set(HeaderReplayOf, strconv.FormatUint(e.Seq, 10))
	if e.Team != "" {
		m.Header.Set(HeaderReplayTeam, e.Team)
		if len(e.Accepted) > 0 {
			m.Header.Set(HeaderReplaySkip, strings.Join(e.Accepted, ","))
		}
	}
	id := "replay:" + d.stream + ":" + strconv.FormatUint(e.Seq, 10)
	ack, err := d.js.PublishMsg(ctx, m, jetstream.WithMsgID(id), jetstream.WithExpectStream(d.ingestStream))
	if err != nil {
		return ReplayResult{}, fmt.Errorf("republishing dead letter %d to %s: %w", e.Seq, e.Subject, err)
	}
	res := ReplayResult{IngestSeq: ack.Sequence, Duplicate: ack.Duplicate}
	s, err := d.js.Stream(ctx, d.stream)
	if err == nil {
		err = s.DeleteMsg(ctx, e.Seq)
		if err != nil {
			// Deleting a message that is gone fails with a text-only error;
			// gone is what we want.
			if _, gerr := s.GetMsg(ctx, e.Seq); errors.Is(gerr, jetstream.ErrMsgNotFound) {
				err = nil
			}
		}
	}
	if err != nil {
		return res, fmt.Errorf("dead letter %d was replayed (ingest seq %d) but not deleted: %w", e.Seq, ack.Sequence, err)
	}
	return res, nil
}
