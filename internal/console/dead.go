package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/internal/trace"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/decisions"
)

// deadShown bounds the dead letters one page lists (the most recent).
const deadShown = 200

type deadListData struct {
	Form    url.Values
	Reasons []string
	Entries []deadRow
	Shown   int
	CanAct  bool
	Missing bool
}

type deadRow struct {
	router.DeadEntry
	ID string
}

// deadReasons are the reasons offered in the filter.
var deadReasons = []string{router.ReasonDeliveryFailed, router.ReasonRejected, router.ReasonUnknownTeam, router.ReasonMalformed, router.ReasonInvalid}

func (s *Server) deadList(w http.ResponseWriter, r *http.Request) {
	if s.d.Dead == nil {
		s.fail(w, r, http.StatusNotFound, "Dead letters are not available here.")
		return
	}
	who, _ := opsauth.IdentityFrom(r.Context())
	qv := r.URL.Query()
	d := deadListData{Form: qv, Reasons: deadReasons, CanAct: who.CanAct()}
	v := view{Nav: "dead"}
	q := router.DeadQuery{Limit: deadShown}
	if reason := qv.Get("reason"); reason != "" {
		q.Reason = reason
	}
	since, err := trace.ParseTime(qv.Get("since"), s.d.Now())
	if err != nil {
		v.Error = "since: " + err.Error()
		v.Data = d
		s.render(w, r, http.StatusBadRequest, "dead", "Dead letters", v)
		return
	}
	q.Since = since
	id := qv.Get("id")
	if id != "" {
		q.Limit = 0 // every dead letter, to find the item's
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	list, err := s.d.Dead.List(ctx, q)
	if err != nil {
		s.d.Log.Warn("console: listing dead letters", zap.Error(err))
		v.Error = "Listing dead letters failed: " + err.Error()
	}
	// Newest first.
	for i := len(list) - 1; i >= 0; i-- {
		e := list[i]
		row := deadRow{DeadEntry: e, ID: e.EnvelopeID()}
		if id != "" && row.ID != id {
			continue
		}
		d.Entries = append(d.Entries, row)
		if len(d.Entries) == deadShown {
			break
		}
	}
	d.Shown = len(d.Entries)
	if n, err := strconv.ParseUint(qv.Get("replayed"), 10, 64); err == nil {
		v.Notice = fmt.Sprintf("Dead letter %d was replayed: the router routes it again.", n)
		if ing, err := strconv.ParseUint(qv.Get("ingest"), 10, 64); err == nil {
			v.Notice = fmt.Sprintf("Dead letter %d was replayed as ingest message %d: the router routes it again.", n, ing)
		}
	}
	v.Data = d
	s.render(w, r, http.StatusOK, "dead", "Dead letters", v)
}

type deadOneData struct {
	E        router.DeadEntry
	ID       string
	Original string
	CanAct   bool
}

// deadLetter reads the dead letter whose sequence number is seqText. When
// dead letters are not available here, seqText is not a number (badSeq then
// tells the user what to do) or the letter cannot be read, it answers with
// an error page and ok is false.
func (s *Server) deadLetter(ctx context.Context, w http.ResponseWriter, r *http.Request, seqText, badSeq string) (e router.DeadEntry, seq uint64, ok bool) {
	if s.d.Dead == nil {
		s.fail(w, r, http.StatusNotFound, "Dead letters are not available here.")
		return e, 0, false
	}
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, badSeq)
		return e, 0, false
	}
	e, err = s.d.Dead.Get(ctx, seq)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err.Error())
		return e, 0, false
	}
	return e, seq, true
}

func (s *Server) deadOne(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	e, seq, ok := s.deadLetter(ctx, w, r, r.PathValue("seq"), "A dead letter is named by its sequence number.")
	if !ok {
		return
	}
	who, _ := opsauth.IdentityFrom(r.Context())
	d := deadOneData{E: e, ID: e.EnvelopeID(), CanAct: who.CanAct()}
	switch {
	case len(e.Envelope) > 0:
		var buf bytes.Buffer
		if json.Indent(&buf, e.Envelope, "", "  ") == nil {
			d.Original = buf.String()
		} else {
			d.Original = string(e.Envelope)
		}
	case e.Raw != "":
		d.Original = e.Raw
	default:
		d.Original = fmt.Sprintf("(%d bytes that are not text)", len(e.RawBytes))
	}
	s.render(w, r, http.StatusOK, "deadone", fmt.Sprintf("Dead letter %d", seq), view{Nav: "dead", Data: d})
}

func (s *Server) deadReplay(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	e, seq, ok := s.deadLetter(ctx, w, r, r.PostFormValue("seq"), "Choose a dead letter to replay.")
	if !ok {
		return
	}
	res, err := s.d.Dead.Replay(ctx, e)
	if err != nil {
		s.d.Log.Warn("console: replaying a dead letter", zap.Uint64("seq", seq), zap.Error(err))
		s.fail(w, r, http.StatusBadGateway, "Replaying failed: "+err.Error())
		return
	}
	who, _ := opsauth.IdentityFrom(r.Context())
	s.d.Log.Info("dead letter replayed from the console", zap.Uint64("seq", seq), zap.Uint64("ingest_seq", res.IngestSeq), zap.String("by", who.Name))
	if id := e.EnvelopeID(); id != "" && s.d.History != nil {
		_, err := s.d.History.Update(ctx, id, func(rec *decisions.Record) (*decisions.Record, error) {
			if rec == nil {
				return nil, nil // no record to add to
			}
			var teams []string
			if e.Team != "" {
				teams = []string{e.Team}
			}
			rec.AddEvent(decisions.Event{At: s.d.Now().UTC(), Kind: decisions.EventReplay, Teams: teams, By: who.Name,
				Detail: fmt.Sprintf("dead letter %d (%s) replayed from the console as ingest message %d", seq, e.Reason, res.IngestSeq)})
			return rec, nil
		})
		if err != nil {
			s.d.Log.Warn("console: recording a replay in the decision record", zap.String("id", id), zap.Error(err))
		}
	}
	http.Redirect(w, r, "/ui/dead?"+url.Values{"replayed": {strconv.FormatUint(seq, 10)}, "ingest": {strconv.FormatUint(res.IngestSeq, 10)}}.Encode(), http.StatusSeeOther)
}
