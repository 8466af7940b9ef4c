package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/internal/trace"
	"github.com/switchboard/switchboard/router/decisions"
)

// channels are the channels offered in the search form.
var channels = []string{"web", "email", "facebook", "x"}

type messagesData struct {
	Query    decisions.Query
	Form     url.Values
	Teams    []string
	Channels []string
	Page     *decisions.Page
	NextURL  string
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	v := view{}
	d := messagesData{Form: r.URL.Query(), Teams: s.teamNames(), Channels: channels}
	q, err := trace.ParseQuery(r.URL.Query(), s.d.Now())
	if err != nil {
		v.Error = "Search: " + err.Error()
		v.Data = d
		s.render(w, r, http.StatusBadRequest, "messages", "Messages", v)
		return
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	d.Query = q
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	p, err := s.d.Messages.Search(ctx, q)
	if err != nil {
		s.d.Log.Warn("console: searching decision records", zap.Error(err))
		v.Error = "Searching failed: " + err.Error()
	} else {
		d.Page = p
		if p.Next != 0 {
			next := q
			next.Before = p.Next
			d.NextURL = "/ui/messages?" + trace.Values(next).Encode()
		}
	}
	v.Data = d
	s.render(w, r, http.StatusOK, "messages", "Messages", v)
}

type traceData struct {
	T *trace.Trace
	// Thread, Customer link to searches of the item's thread and customer.
	ThreadURL, CustomerURL string
	// CanReroute says the reroute form is offered; RerouteLanded that the
	// feature exists at all.
	CanReroute, RerouteLanded bool
	Teams                     []string
	DeadURL                   string
}

func (s *Server) trace(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		http.Redirect(w, r, "/ui/messages", http.StatusSeeOther)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	t, err := s.d.Messages.Trace(ctx, id)
	switch {
	case errors.Is(err, decisions.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, "There is no decision record for "+id+": the router has not decided it yet, it expired, or it is not an item id.")
		return
	case err != nil:
		s.d.Log.Warn("console: reading a trace", zap.Error(err))
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the item failed: "+err.Error())
		return
	}
	d := traceData{T: t, RerouteLanded: s.d.Rerouter != nil, Teams: s.teamNames()}
	who, _ := opsauth.IdentityFrom(r.Context())
	d.CanReroute = d.RerouteLanded && who.CanAct()
	rec := t.Decision
	if rec.ThreadID != "" {
		d.ThreadURL = "/ui/messages?" + url.Values{"thread": {rec.ThreadID}, "channel": {rec.Channel}}.Encode()
	}
	if rec.Customer != nil && rec.Customer.ID != "" {
		d.CustomerURL = "/ui/messages?" + url.Values{"customer": {rec.Customer.ID}}.Encode()
	}
	if rec.Outcome == decisions.OutcomeDead || hasEvent(rec, decisions.EventDead) {
		d.DeadURL = "/ui/dead?" + url.Values{"id": {rec.ID}}.Encode()
	}
	v := view{Nav: "messages", Data: d}
	switch {
	case r.URL.Query().Get("rerouted") != "":
		v.Notice = "Rerouted."
	}
	s.render(w, r, http.StatusOK, "trace", "Item "+id, v)
}

func hasEvent(r *decisions.Record, kind string) bool {
	for _, e := range r.History {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// reroute is the trace page's reroute action; it exists once a Rerouter
// is wired.
func (s *Server) reroute(w http.ResponseWriter, r *http.Request) {
	if s.d.Rerouter == nil {
		s.fail(w, r, http.StatusNotImplemented, "Rerouting is not available in this build yet.")
		return
	}
	id := r.PostFormValue("id")
	teams := slices.DeleteFunc(r.PostForm["team"], func(t string) bool { return strings.TrimSpace(t) == "" })
	if id == "" || len(teams) == 0 {
		s.fail(w, r, http.StatusBadRequest, "Choose the item and at least one team.")
		return
	}
	known := s.teamNames()
	for _, t := range teams {
		if !slices.Contains(known, t) {
			s.fail(w, r, http.StatusBadRequest, "Team "+t+" is not in the rules in force.")
			return
		}
	}
	who, _ := opsauth.IdentityFrom(r.Context())
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := s.d.Rerouter.Reroute(ctx, id, teams, who.Name); err != nil {
		s.d.Log.Warn("console: reroute failed", zap.String("id", id), zap.Error(err))
		s.fail(w, r, http.StatusBadGateway, "Rerouting failed: "+err.Error())
		return
	}
	s.d.Log.Info("item rerouted from the console", zap.String("id", id), zap.Strings("teams", teams), zap.String("by", who.Name))
	http.Redirect(w, r, "/ui/trace?"+url.Values{"id": {id}, "rerouted": {"1"}}.Encode(), http.StatusSeeOther)
}

// teamNames lists the teams of the rules in force.
func (s *Server) teamNames() []string {
	var out []string
	for _, t := range s.d.Rules.Current().Teams() {
		out = append(out, t.Name)
	}
	return out
}
