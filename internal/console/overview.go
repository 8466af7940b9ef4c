package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
)

// Attention is one thing ops should look at, shown at the top.
type Attention struct {
	// Level is "bad" (act now) or "warn".
	Level string
	// Text says what; Link where to look (may be "").
	Text, Link string
}

type overviewData struct {
	Attention  []Attention
	Connectors []connectorRow
	Teams      []teamRow
	// Since* say where a window starts when the daemon is younger than it.
	HourSince, DaySince time.Time
	Started             time.Time
	Rules               rulesSummary
	Dead                uint64
	DeadKnown           bool
	Storage             *StorageUsage
}

type connectorRow struct {
	connectors.Status
	LastHour      float64
	CheckpointAge time.Duration
	HasCheckpoint bool
}

type teamRow struct {
	Name, Description string
	Targets           []targetRow
	RoutedHour        float64
	RoutedDay         float64
	DeadDay           float64
}

type targetRow struct {
	Name   string
	Depth  float64
	Known  bool
	Paused bool
}

type rulesSummary struct {
	Version, File string
	Routes, Teams int
	Warnings      []string
	Last          Reload
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	now := s.d.Now()
	d := overviewData{Started: s.started}
	cur := s.counters()
	g := s.gather()

	// Connectors.
	for _, st := range s.d.Connectors.Statuses() {
		row := connectorRow{Status: st}
		row.LastHour, d.HourSince = s.window.increase("ingested\x00"+st.Name, cur["ingested\x00"+st.Name], now, time.Hour)
		if st.CheckpointAt != nil {
			row.CheckpointAge, row.HasCheckpoint = now.Sub(*st.CheckpointAt), true
		}
		// The checkpoint itself (cursors, page ids) is not shown; its age is.
		row.Checkpoint = ""
		d.Connectors = append(d.Connectors, row)
		switch st.State {
		case connectors.StateUnauthorized:
			d.Attention = append(d.Attention, Attention{Level: "bad", Text: fmt.Sprintf(
				"Connector %s is unauthorized: its credentials were rejected. Fix them in the configuration; it retries every backoff_max.", st.Name)})
		case connectors.StateBackingOff:
			text := fmt.Sprintf("Connector %s is backing off after an error", st.Name)
			if st.NextAttemptAt != nil {
				text += fmt.Sprintf("; next attempt in %s", humanDuration(st.NextAttemptAt.Sub(now)))
			}
			d.Attention = append(d.Attention, Attention{Level: "warn", Text: text + "."})
		case connectors.StateStopped:
			d.Attention = append(d.Attention, Attention{Level: "bad", Text: fmt.Sprintf("Connector %s has stopped.", st.Name)})
		}
	}

	// Teams and their targets.
	rs := s.d.Rules.Current()
	depth := g.sum(metricQueueDepth, "team", "target")
	open := g.sum(metricCircuitOpen, "team", "target")
	for _, t := range rs.Teams() {
		row := teamRow{Name: t.Name, Description: t.Description}
		row.RoutedHour, d.HourSince = s.window.increase("routed\x00"+t.Name, cur["routed\x00"+t.Name], now, time.Hour)
		row.RoutedDay, d.DaySince = s.window.increase("routed\x00"+t.Name, cur["routed\x00"+t.Name], now, 24*time.Hour)
		row.DeadDay, _ = s.window.increase("dead\x00"+t.Name, cur["dead\x00"+t.Name], now, 24*time.Hour)
		for _, tg := range t.Targets {
			name := targetLabel(tg.Type, tg.Stream, tg.URL)
			tr := targetRow{Name: tg.String()}
			tr.Depth, tr.Known = depth[t.Name+"\x00"+name]
			tr.Paused = open[t.Name+"\x00"+name] > 0
			if tr.Paused {
				d.Attention = append(d.Attention, Attention{Level: "bad", Text: fmt.Sprintf(
					"Team %s's target %s keeps failing: attempts at it are paused. Its items wait and are retried.", t.Name, tg.String())})
			}
			row.Targets = append(row.Targets, tr)
		}
		d.Teams = append(d.Teams, row)
	}
	// A paused target of a team no longer in the rules still matters.
	for key, v := range open {
		team, _, _ := strings.Cut(key, "\x00")
		if v > 0 && !hasTeam(d.Teams, team) {
			d.Attention = append(d.Attention, Attention{Level: "warn", Text: fmt.Sprintf("A target of team %s (no longer in the rules) is paused.", team)})
		}
	}

	// Rules.
	d.Rules = rulesSummary{Version: rs.Version(), File: rs.File(), Routes: len(rs.RouteIDs()), Teams: len(rs.Teams()), Warnings: rs.Warnings(), Last: s.d.Reloads.Last()}
	if l := d.Rules.Last; !l.At.IsZero() && !l.OK {
		d.Attention = append(d.Attention, Attention{Level: "bad", Link: "/ui/rules", Text: fmt.Sprintf(
			"The last rules reload (%s ago) was rejected; version %s keeps running.", humanDuration(now.Sub(l.At)), rs.Version())})
	}

	// Storage and dead letters.
	if s.d.Storage != nil {
		u, err := s.d.Storage.Usage(ctx)
		if err != nil {
			s.d.Log.Warn("console: reading storage usage", zap.Error(err))
			d.Attention = append(d.Attention, Attention{Level: "warn", Text: "Storage usage could not be read: " + err.Error()})
		} else {
			d.Storage = &u
			if full(u.Used, u.Limit) {
				d.Attention = append(d.Attention, Attention{Level: "bad", Text: fmt.Sprintf(
					"The JetStream store is %d%% full (%s of %s).", u.Used*100/u.Limit, bytesText(u.Used), bytesText(u.Limit))})
			}
			for _, st := range u.Streams {
				if full(int64(st.Bytes), st.MaxBytes) {
					d.Attention = append(d.Attention, Attention{Level: "bad", Text: fmt.Sprintf(
						"Stream %s is %d%% of its max_bytes: the oldest messages are being dropped.", st.Name, int64(st.Bytes)*100/st.MaxBytes)})
				}
			}
			if u.DeadLetters != nil {
				d.Dead, d.DeadKnown = *u.DeadLetters, true
				if d.Dead > 0 {
					d.Attention = append(d.Attention, Attention{Level: "warn", Link: "/ui/dead", Text: fmt.Sprintf(
						"%d dead letter(s) wait: fix the cause, then replay them.", d.Dead)})
				}
			}
		}
	}
	sort.SliceStable(d.Attention, func(i, j int) bool { return d.Attention[i].Level == "bad" && d.Attention[j].Level != "bad" })
	s.render(w, r, http.StatusOK, "overview", "Overview", view{Data: d})
}

func hasTeam(rows []teamRow, name string) bool {
	for _, r := range rows {
		if r.Name == name {
			return true
		}
	}
	return false
}

// targetLabel is the target label metrics use for a team's target (see
// router/targets: nats, redis:<stream>, webhook:<host>).
func targetLabel(typ, stream, rawURL string) string {
	switch typ {
	case "redis":
		return "redis:" + stream
	case "webhook":
		if u, err := url.Parse(rawURL); err == nil {
			return "webhook:" + u.Host
		}
		return "webhook"
	}
	return typ
}

// bytesText says n bytes in KiB, MiB or GiB.
func bytesText(n int64) string {
	const k = 1024
	switch {
	case n >= k*k*k:
		return fmt.Sprintf("%.1f GiB", float64(n)/(k*k*k))
	case n >= k*k:
		return fmt.Sprintf("%.1f MiB", float64(n)/(k*k))
	case n >= k:
		return fmt.Sprintf("%.1f KiB", float64(n)/k)
	}
	return fmt.Sprintf("%d B", n)
}
