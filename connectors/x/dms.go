package x

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
)

// dmCheckpoint is the saved state of the DM stream.
//
// GET /2/dm_events has no since_id: it pages newest first. Every event up to
// LastID is ingested; a poll pages until it meets LastID (or an older
// event). When it has to stop early (the per-poll budget), Token is where the
// unfinished cycle continues and Newest the newest event of that cycle,
// which becomes LastID once the cycle reaches LastID.
type dmCheckpoint struct {
	V      int         `json:"v"`
	Budget budgetState `json:"budget"`
	LastID string      `json:"last_event_id,omitempty"`
	Newest string      `json:"newest_event_id,omitempty"`
	Token  string      `json:"pagination_token,omitempty"`
}

// DMStream ingests the account's direct messages.
type DMStream struct {
	poller
	// user is the OAuth 2.0 token (nil with OAuth 1.0a, which signs every
	// request and has nothing to renew).
	user *UserToken
	// oauth1 is set when requests are signed with OAuth 1.0a.
	oauth1 bool
	// tokenFile names where the refresh token lives, for messages.
	tokenFile string
	// owner is the account the OAuth 2.0 token acts for, once X said so.
	// The refresh token rotates within that one grant, so the account
	// cannot change while the daemon runs: a restart of the stream does
	// not ask again, and a token of another account stays refused until
	// the daemon starts with new credentials. Only Run uses it, and the
	// supervisor never runs a connector twice at once.
	owner *User
}

// Run polls until ctx ends.
func (s *DMStream) Run(ctx context.Context, h *connectors.Handle) error {
	if err := s.checkAccount(ctx, h); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	raw, err := h.Checkpoint(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	var st dmCheckpoint
	if !s.readCheckpoint(h, raw, &st, func() []string { return []string{st.LastID, st.Newest} }, "event", "DMs") {
		st = dmCheckpoint{}
	}
	st.V = 1
	s.budget.Restore(s.stream, st.Budget.Day, st.Budget.Reads)
	return s.loop(ctx, h, func(ctx context.Context, h *connectors.Handle) error {
		err := s.poll(ctx, h, &st)
		if err == nil && s.user != nil {
			if serr := s.user.SaveError(); serr != nil {
				return handled(fmt.Errorf("%s: the rotated refresh token is not saved (%v); DMs stop after a restart until it is", s.name, serr))
			}
		}
		return err
	})
}

// checkAccount makes sure, before the first poll of a start, that the
// OAuth 2.0 user token acts for user_id: a token authorized logged in as
// another account (a developer's own) would read that person's DMs beside
// user_id's mentions. It asks X (GET /2/users/me) until X has answered
// once (see owner). The refusal wraps connectors.ErrUnauthorized: the
// credentials must be replaced, and the supervisor retries slowly
// meanwhile. OAuth 1.0a is not asked: config check matches its access
// token's leading user id against user_id.
func (s *DMStream) checkAccount(ctx context.Context, h *connectors.Handle) error {
	if s.user == nil {
		return nil
	}
	if s.owner == nil {
		owner, err := s.askOwner(ctx, h)
		if owner == nil {
			return err
		}
		s.owner = owner
	}
	if s.owner.ID == s.filter.userID {
		return nil
	}
	who := s.owner.ID
	if s.owner.Username != "" {
		who += " (@" + s.owner.Username + ")"
	}
	return fmt.Errorf("%s: the OAuth 2.0 token acts for user %s, not user_id %s, so no DMs are read: it was authorized "+
		"logged in as another account; authorize again logged in as the account user_id names (OAuth 2.0 scopes tweet.read "+
		"users.read dm.read offline.access), write the new refresh token to %s and restart the daemon: %w",
		s.name, who, s.filter.userID, s.tokenFile, connectors.ErrUnauthorized)
}

// askOwner asks X whom the token acts for. Without an answer it returns
// nil, and the error that ends the start or nil to poll unchecked: when X
// cannot say (network, 5xx, 429, a malformed or refused answer) it logs a
// warning and the stream polls, for the check must not make an X outage
// worse; the next start asks again. Getting the token is not part of the
// check: it fails as the first poll would.
func (s *DMStream) askOwner(ctx context.Context, h *connectors.Handle) (*User, error) {
	if err := s.call(ctx, h, func() error {
		_, err := s.user.Token(ctx)
		return err
	}); err != nil {
		return nil, s.failed(ctx, err)
	}
	const unchecked = "could not check which X account the OAuth 2.0 token acts for; reading DMs anyway, the next start checks again"
	if d, reset := s.client.RateLimitWait(EndpointMe); d > 0 {
		s.log.Warn(unchecked, zap.String("endpoint", EndpointMe), zap.String("reason", "x-rate-limit-remaining is 0"), zap.Time("until", reset))
		return nil, nil
	}
	me, err := s.client.Me(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.log.Warn(unchecked, zap.String("endpoint", EndpointMe), zap.Error(err))
		return nil, nil
	}
	return me, nil
}

// fetch gets one page, refreshing an OAuth 2.0 user token once when X
// refuses it (an OAuth 1.0a signature has nothing to renew).
func (s *DMStream) fetch(ctx context.Context, h *connectors.Handle, token string, n int) (*DMPage, error) {
	var page *DMPage
	err := s.call(ctx, h, func() error {
		var err error
		page, err = s.client.DMEvents(ctx, token, n)
		var ae *APIError
		if s.user != nil && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			s.log.Info("X refused the DM access token; refreshing it", zap.Error(err))
			s.user.Invalidate()
			page, err = s.client.DMEvents(ctx, token, n)
		}
		return err
	})
	return page, err
}

// poll pages newest first until the checkpointed event, publishing and
// checkpointing each page.
func (s *DMStream) poll(ctx context.Context, h *connectors.Handle, st *dmCheckpoint) error {
	first := st.LastID == "" && st.Token == ""
	token := st.Token
	pollUsed := 0
	var empty emptyRun
	for {
		r, ok, err := s.reserve(pollUsed, minDMPage)
		if !ok {
			return err
		}
		page, err := s.fetch(ctx, h, token, r.N)
		if err != nil {
			s.budget.Settle(s.stream, r, 0)
			var ae *APIError
			if token != "" && errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
				// The saved pagination token is no longer accepted: page
				// again from the newest; what was read is deduplicated.
				s.log.Warn("X refused the saved DM pagination token; paging again from the newest DM", zap.Error(err))
				token, st.Token = "", ""
				continue
			}
			return s.failed(ctx, err)
		}
		n := len(page.Data)
		s.budget.Settle(s.stream, r, n)
		s.metrics.read(s.stream, n)
		pollUsed += n
		if n == 0 && len(page.Errors) > 0 {
			return fmt.Errorf("%s: X answered with errors only: %s", s.name, page.Errors[0])
		}
		c := s.filter.dms(page, st.LastID)
		s.report(h, page.Errors, page.Includes.Malformed, c)

		prev := *st
		st.Newest = maxID(st.Newest, c.newest)
		// An empty page with a next_token does not end the cycle: X
		// filters events after paging.
		done := first || c.reached || page.Meta.NextToken == ""
		if done {
			st.LastID = maxID(st.LastID, st.Newest)
			st.Newest, st.Token = "", ""
		} else {
			st.Token = page.Meta.NextToken
		}
		st.Budget = s.budgetState()
		if err := commit(ctx, h, &s.poller, st, prev, c); err != nil {
			return err
		}
		if done {
			return nil
		}
		if err := empty.next(s.name, n, page.Meta.NextToken); err != nil {
			return err
		}
		token = page.Meta.NextToken
	}
}

func (s *DMStream) failed(ctx context.Context, err error) error {
	var de *DecodeError
	var oe *OAuthError
	var ae *APIError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &de):
		return s.malformed(err)
	case s.oauth1 && errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return fmt.Errorf("%s: X refused DM access to the OAuth 1.0a access token: %w; the App's permissions must be "+
			"\"Read and write and Direct message\", and the access token and secret must be generated after they were set "+
			"(regenerate them, then update connectors.x.dms.oauth1)", s.name, err)
	case s.oauth1 && errors.Is(err, connectors.ErrUnauthorized):
		return fmt.Errorf("%s: X refused the OAuth 1.0a signature: %w; check connectors.x.dms.oauth1: consumer_key and consumer_secret "+
			"are the App's API Key and Secret, access_token and access_token_secret the account's (regenerating either pair "+
			"invalidates the old one, and so does the account revoking the App); signatures carry a timestamp, so the host's "+
			"clock must be right", s.name, err)
	case errors.As(err, &oe) && errors.Is(err, connectors.ErrUnauthorized):
		return fmt.Errorf("%s: X refused to refresh the DM user token: %w; re-authorize the account (OAuth 2.0 scopes tweet.read users.read dm.read offline.access), "+
			"write the new refresh token to %s and check connectors.x.dms.client_id/client_secret", s.name, err, s.tokenFile)
	case errors.Is(err, connectors.ErrUnauthorized):
		return fmt.Errorf("%s: X refused the DM user token: %w; the account must grant dm.read (scopes tweet.read users.read dm.read offline.access) "+
			"and the app needs DM access; re-authorize and write the new refresh token to %s", s.name, err, s.tokenFile)
	default:
		return fmt.Errorf("%s: %w", s.name, err)
	}
}
