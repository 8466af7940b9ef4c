package decisions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Query selects records; every field that is set must hold.
type Query struct {
	// Team: the item went to this team.
	Team string
	// Channel: the item came from this channel.
	Channel string
	// Outcome: routed, noise or dead.
	Outcome string
	// Thread: the item belongs to this thread (its envelope's thread_id).
	Thread string
	// Customer: the item was linked to this customer.
	Customer string
	// Text occurs, ignoring case, in the snippet, the author or the id.
	Text string
	// Since and Until bound when the item was received.
	Since, Until time.Time
	// Before continues a search: only records stored before this stream
	// sequence (Page.Next of the previous page). 0 starts at the newest.
	Before uint64
	// Limit caps the records returned (default 50, at most 500).
	Limit int
}

// Page is one page of search results, newest change first.
type Page struct {
	// Records match the query, most recently changed first.
	Records []*Record `json:"records"`
	// Next continues the search (Query.Before); 0 when there is no more.
	Next uint64 `json:"next,omitempty"`
	// Scanned is how many stored records were looked at.
	Scanned int `json:"scanned"`
	// Truncated says the scan budget ran out before the page filled; Next
	// continues where it stopped.
	Truncated bool `json:"truncated,omitempty"`
}

// Search limits.
const (
	defaultLimit = 50
	maxLimit     = 500
	// scanBudget bounds the stream sequences one search looks at, so that
	// a query that matches nothing cannot keep the server busy.
	scanBudget = 200_000
)

// Search returns the records matching q, most recently changed first. It
// walks the stream backwards from the newest record (or q.Before), one
// direct get per sequence, and stops at the first record changed before
// q.Since, when the page is full, or when the scan budget is spent.
func (s *Store) Search(ctx context.Context, q Query) (*Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	info, err := s.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("searching decision records: %w", err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	if q.Before > 0 && q.Before-1 < last {
		last = q.Before - 1
	}
	text := strings.ToLower(strings.TrimSpace(q.Text))
	page := &Page{Records: []*Record{}}
	seq := last
	for ; seq >= first && seq > 0; seq-- {
		if page.Scanned >= scanBudget {
			page.Truncated = true
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("searching decision records: %w", err)
		}
		page.Scanned++
		m, err := s.stream.Handle.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // superseded by a later change of the same record
		}
		if err != nil {
			return nil, fmt.Errorf("searching decision records at sequence %d: %w", seq, err)
		}
		if !q.Since.IsZero() && m.Time.Before(q.Since) {
			seq = 0 // every older sequence was stored before Since too
			break
		}
		var rec Record
		if err := json.Unmarshal(m.Data, &rec); err != nil {
			continue // not ours to fail on; Get reports it for that id
		}
		if !q.matches(&rec, text) {
			continue
		}
		if len(page.Records) == limit {
			break // seq is the first record of the next page
		}
		page.Records = append(page.Records, &rec)
	}
	if seq >= first && seq > 0 {
		page.Next = seq + 1
	}
	return page, nil
}

func (q *Query) matches(r *Record, text string) bool {
	if q.Channel != "" && r.Channel != q.Channel {
		return false
	}
	if q.Team != "" && !slices.Contains(r.Teams, q.Team) {
		return false
	}
	if q.Outcome != "" && r.Outcome != q.Outcome {
		return false
	}
	if q.Thread != "" && r.ThreadID != q.Thread {
		return false
	}
	if q.Customer != "" && (r.Customer == nil || r.Customer.ID != q.Customer) {
		return false
	}
	if !q.Since.IsZero() && r.ReceivedAt.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && r.ReceivedAt.After(q.Until) {
		return false
	}
	if text != "" && !strings.Contains(strings.ToLower(r.Snippet), text) &&
		!strings.Contains(strings.ToLower(r.Author), text) && !strings.Contains(strings.ToLower(r.ID), text) {
		return false
	}
	return true
}
