package console

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/trace"
)

// SLQuery selects a service-level report.
type SLQuery struct {
	// Since and Until bound the items counted (by when they were received).
	Since, Until time.Time
	// Bucket is the width of one point of the series (a day, an hour).
	Bucket time.Duration
}

// SLReport is response rate and first-response time per team and channel.
type SLReport struct {
	// Rows are one team and channel each.
	Rows []SLRow
}

// SLRow is one team's service level on one channel.
type SLRow struct {
	Team, Channel string
	// Items were received; Responded got a first response from the company.
	Items, Responded int
	// FirstResponseMedian and FirstResponseP90 are over the responded items.
	FirstResponseMedian, FirstResponseP90 time.Duration
	// Target is the first-response target (0: none); PastTarget counts
	// items without a response within it, answered or not.
	Target     time.Duration
	PastTarget int
	// Series is the same per bucket, oldest first.
	Series []SLPoint
}

// SLPoint is one bucket of a row's series.
type SLPoint struct {
	Start               time.Time
	Items, Responded    int
	FirstResponseMedian time.Duration
}

// Rate is the share of items that got a response.
func (r SLRow) Rate() float64 {
	if r.Items == 0 {
		return 0
	}
	return float64(r.Responded) / float64(r.Items)
}

type slData struct {
	Landed bool
	Since  string
	Bucket string
	Report *SLReport
	Charts []slChart
}

type slChart struct {
	Title string
	SVG   template.HTML
}

func (s *Server) serviceLevels(w http.ResponseWriter, r *http.Request) {
	d := slData{Landed: s.d.ServiceLevels != nil, Since: r.URL.Query().Get("since"), Bucket: r.URL.Query().Get("bucket")}
	v := view{Nav: "service-levels"}
	if !d.Landed {
		v.Data = d
		s.render(w, r, http.StatusOK, "service", "Service levels", v)
		return
	}
	if d.Since == "" {
		d.Since = "7d"
	}
	now := s.d.Now()
	since, err := trace.ParseTime(d.Since, now)
	if err != nil {
		v.Error = "since: " + err.Error()
		v.Data = d
		s.render(w, r, http.StatusBadRequest, "service", "Service levels", v)
		return
	}
	bucket := 24 * time.Hour
	if d.Bucket == "hour" {
		bucket = time.Hour
	} else {
		d.Bucket = "day"
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	rep, err := s.d.ServiceLevels.ServiceLevels(ctx, SLQuery{Since: since, Until: now, Bucket: bucket})
	if err != nil {
		s.d.Log.Warn("console: reading service levels", zap.Error(err))
		v.Error = "Reading service levels failed: " + err.Error()
	} else {
		d.Report = rep
		for _, row := range rep.Rows {
			d.Charts = append(d.Charts, slChart{Title: row.Team + " · " + row.Channel, SVG: chartSVG(row)})
		}
	}
	v.Data = d
	s.render(w, r, http.StatusOK, "service", "Service levels", v)
}

// chartSVG draws a row's series server-side as an SVG: the response rate
// (0–100%, left axis) and the median first-response time (right axis).
// Only numbers and fixed strings go into the markup, so it is safe to
// embed; no script is involved.
func chartSVG(row SLRow) template.HTML {
	const w, h, padL, padR, padT, padB = 560.0, 180.0, 40.0, 56.0, 12.0, 26.0
	pw, ph := w-padL-padR, h-padT-padB
	n := len(row.Series)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f">`, w, h, w, h)
	for i := 0; i <= 4; i++ {
		y := padT + ph*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, y, padL+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%d%%</text>`, padL-4, y+4, 100-25*i)
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, padT+ph, padL+pw, padT+ph)
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">no items</text></svg>`, padL+pw/2, padT+ph/2)
		return template.HTML(b.String())
	}
	x := func(i int) float64 {
		if n == 1 {
			return padL + pw/2
		}
		return padL + pw*float64(i)/float64(n-1)
	}
	maxT := time.Minute
	for _, p := range row.Series {
		maxT = max(maxT, p.FirstResponseMedian)
	}
	var rate, resp strings.Builder
	for i, p := range row.Series {
		r := 0.0
		if p.Items > 0 {
			r = float64(p.Responded) / float64(p.Items)
		}
		fmt.Fprintf(&rate, "%.1f,%.1f ", x(i), padT+ph*(1-r))
		fmt.Fprintf(&resp, "%.1f,%.1f ", x(i), padT+ph*(1-float64(p.FirstResponseMedian)/float64(maxT)))
	}
	fmt.Fprintf(&b, `<polyline class="line" stroke="#2454c4" points="%s"/>`, strings.TrimSpace(rate.String()))
	fmt.Fprintf(&b, `<polyline class="line" stroke="#c2410c" stroke-dasharray="4 3" points="%s"/>`, strings.TrimSpace(resp.String()))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`, padL+pw+4, padT+8, template.HTMLEscapeString(humanDuration(maxT)))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">0</text>`, padL+pw+4, padT+ph+4)
	for _, i := range []int{0, n - 1} {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x(i), h-8, row.Series[i].Start.UTC().Format("01-02 15h"))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#2454c4">response rate</text>`, padL+6, padT+12)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#c2410c">median first response</text>`, padL+110, padT+12)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
