package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
)

// tweetCheckpoint is the saved state of a mentions or search stream.
//
// Everything up to SinceID is ingested. A poll reads newest first, page by
// page, and saves this after each page it published. Newest is the newest
// post of the cycle (the first page's newest_id); UntilID is the oldest post
// read so far in it. When a cycle stops early (the per-poll budget, an
// error, a restart), the window still to read is (SinceID, UntilID), and the
// next poll reads exactly that. Only once the window is read does Newest
// become the next SinceID: so no post is skipped, and none newer than Newest
// is lost either, since the cycle after reads from there.
type tweetCheckpoint struct {
	V int `json:"v"`
	// Budget comes first so that the status (which shortens long
	// checkpoints) always shows it.
	Budget  budgetState `json:"budget"`
	SinceID string      `json:"since_id,omitempty"`
	UntilID string      `json:"until_id,omitempty"`
	Newest  string      `json:"newest_id,omitempty"`
}

// TweetStream ingests posts from the mentions timeline or one recent
// search, or reads the account's own posts for its replies (responses).
type TweetStream struct {
	poller
	// userID is whose mentions (or own posts) are read; query is the search
	// (one of them).
	userID, query string
	minPage       int
	// replies reads the account's own posts (GET /2/users/:id/tweets) and
	// publishes its replies as responses instead of envelopes.
	replies bool
}

// Run polls until ctx ends.
func (s *TweetStream) Run(ctx context.Context, h *connectors.Handle) error {
	st, err := s.load(ctx, h)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	return s.loop(ctx, h, func(ctx context.Context, h *connectors.Handle) error { return s.poll(ctx, h, &st) })
}

// load reads the checkpoint; an unreadable one is reported and replaced by
// a first start (reading only the newest page).
func (s *TweetStream) load(ctx context.Context, h *connectors.Handle) (tweetCheckpoint, error) {
	raw, err := h.Checkpoint(ctx)
	if err != nil {
		return tweetCheckpoint{}, err
	}
	var st tweetCheckpoint
	if !s.readCheckpoint(h, raw, &st, func() []string { return []string{st.SinceID, st.UntilID, st.Newest} }, "post", "posts") {
		st = tweetCheckpoint{}
	}
	st.V = 1
	s.budget.Restore(s.stream, st.Budget.Day, st.Budget.Reads)
	return st, nil
}

func (s *TweetStream) fetch(ctx context.Context, q PageQuery) (*TweetPage, error) {
	if s.replies {
		return s.client.UserTweets(ctx, s.userID, q)
	}
	if s.query != "" {
		return s.client.SearchRecent(ctx, s.query, q)
	}
	return s.client.Mentions(ctx, s.userID, q)
}

// poll reads what is new since the checkpoint, page by page, publishing
// and checkpointing each page.
func (s *TweetStream) poll(ctx context.Context, h *connectors.Handle, st *tweetCheckpoint) error {
	if s.replies && !h.TracksResponses() {
		// Reading replies nobody links would only spend the read budget.
		s.metrics.pollSkipped(s.stream, "not_tracked")
		return handled(fmt.Errorf("%s reads nothing: this daemon does not track responses", s.name))
	}
	// A first start (nothing saved) reads only the newest page and follows
	// from there rather than paging back through days of posts.
	first := st.SinceID == "" && st.UntilID == ""
	since, until := st.SinceID, st.UntilID // fixed for this poll: next_token belongs to them
	token := ""
	pollUsed := 0
	var empty emptyRun
	for {
		r, ok, err := s.reserve(pollUsed, s.minPage)
		if !ok {
			return err
		}
		var page *TweetPage
		err = s.call(ctx, h, func() error {
			var err error
			page, err = s.fetch(ctx, PageQuery{SinceID: since, UntilID: until, Token: token, MaxResults: r.N})
			return err
		})
		if err != nil {
			s.budget.Settle(s.stream, r, 0)
			return s.failed(ctx, h, st, err)
		}
		// Referenced posts expanded into includes are posts read too.
		n := len(page.Data) + len(page.Includes.Tweets)
		s.budget.Settle(s.stream, r, n)
		s.metrics.read(s.stream, n)
		pollUsed += n
		if len(page.Data) == 0 && len(page.Errors) > 0 {
			return fmt.Errorf("%s: X answered with errors only: %s (check connectors.x user_id and the search query)", s.name, page.Errors[0])
		}
		var c converted
		if s.replies {
			c = s.filter.replies(page)
		} else {
			c = s.filter.tweets(page)
		}
		s.report(h, page.Errors, page.Includes.Malformed, c)

		prev := *st
		st.Newest = maxID(st.Newest, c.newest)
		if c.oldest != "" {
			st.UntilID = c.oldest
		}
		// Only the absence of next_token ends the window: X filters posts
		// after paging, so a page can be empty with more pages after it.
		done := first || page.Meta.NextToken == ""
		if done {
			st.SinceID = maxID(st.SinceID, st.Newest)
			st.UntilID, st.Newest = "", ""
		}
		st.Budget = s.budgetState()
		if err := commit(ctx, h, &s.poller, st, prev, c); err != nil {
			return err
		}
		if done {
			return nil
		}
		if err := empty.next(s.name, len(page.Data), page.Meta.NextToken); err != nil {
			return err
		}
		token = page.Meta.NextToken
	}
}

// failed turns a request error into what the loop does with it.
func (s *TweetStream) failed(ctx context.Context, h *connectors.Handle, st *tweetCheckpoint, err error) error {
	var de *DecodeError
	var ae *APIError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &de):
		return s.malformed(err)
	case errors.Is(err, connectors.ErrUnauthorized):
		return fmt.Errorf("%s: X refused the app bearer token: %w; fix connectors.x.bearer_token (or bearer_token_file) "+
			"and check the app's access level covers %s", s.name, err, s.endpoint)
	case errors.As(err, &ae) && ae.staleID() && (st.SinceID != "" || st.UntilID != ""):
		// Recent search serves 7 days: a checkpoint older than that is
		// refused. Start again from the newest posts; older ones are gone.
		s.log.Warn("X refused the checkpointed post id (older than the search window); starting from the newest posts, "+
			"posts in between cannot be read any more", zap.String("since_id", st.SinceID), zap.Error(err))
		*st = tweetCheckpoint{V: 1, Budget: s.budgetState()}
		cp, merr := json.Marshal(st)
		if merr == nil {
			if serr := h.SaveCheckpoint(ctx, cp); serr != nil {
				return fmt.Errorf("%s: %w", s.name, serr)
			}
		}
		return handled(fmt.Errorf("%s: checkpoint older than X keeps (%v); restarted from the newest posts", s.name, err))
	default:
		return fmt.Errorf("%s: %w", s.name, err)
	}
}
