// Package x is the X (Twitter) connector: it polls the X API v2 for mentions
// of one account, for configured recent-search queries and for the account's
// direct messages, and publishes each post or DM as one envelope (channel
// "x", kind "mention" or "dm").
//
// # Why a client of our own
//
// github.com/dghubble/go-twitter is deprecated and speaks only API v1.1,
// whose read endpoints X no longer serves to normal accounts, and no
// maintained Go library covers the v2 DM endpoints. So this package carries
// a small typed v2 client (client.go) on net/http, with a configurable base
// URL, for exactly the endpoints it uses:
//
//   - GET /2/users/:id/mentions (app bearer token)
//   - GET /2/users/:id/tweets (app bearer token), the account's own replies
//   - GET /2/tweets/search/recent (app bearer token)
//   - GET /2/dm_events (the account's user context: requests signed with
//     OAuth 1.0a, oauth1.go, or an OAuth 2.0 user token)
//   - POST /2/oauth2/token (refreshing that OAuth 2.0 user token)
//   - GET /2/users/me (once per start of the DM stream with an OAuth 2.0
//     token: whom it acts for; DMs are not read with another account's)
//
// # Streams and checkpoints
//
// Every stream is its own connector with its own checkpoint and status:
// "x.mentions", "x.search.<name>" for each query, "x.dms" and "x.replies".
// A first start reads only the newest page and follows from there.
//
// # Responses
//
// The account's own answers are published as message.Response, before the
// checkpoint passes them, when the daemon tracks responses: its sent DMs
// (read by x.dms anyway, and never ingested as customer items) and its
// replies, read by x.replies from its own posts with since_id like the
// mentions. Replies cost reads, so x.replies yields to the customer
// streams: it only reads while the day's budget keeps one full poll for
// each of them, and otherwise skips the poll and says so in its status.
//
// Mentions and searches follow since_id. A poll pages newest first with a
// fixed since_id and publishes and checkpoints page by page; the checkpoint
// keeps the window still to read (since_id, until_id) and the cycle's
// newest id, which becomes the next since_id only once the whole window is
// published. So a poll cut short (per-poll budget, error, restart) resumes
// exactly where it stopped, and nothing newer is skipped.
//
// DMs have no since_id: GET /2/dm_events is paged newest first until the
// page that holds the checkpointed event; an unfinished cycle keeps its
// pagination_token (and pages again from the newest if X no longer accepts
// it).
//
// An envelope does not depend on the stream that read it: a post that is
// both a mention and a search hit is the same envelope ("x:<post id>") in
// both, and the ingest stream's deduplication stores it once.
//
// # Cost and rate control
//
// X bills every post read. A Budget shared by all streams caps reads (posts
// in data, referenced posts expanded into includes, and DM events) per UTC
// day and per poll of one stream. Each stream's checkpoint carries the
// budget (the day, its reads, what was left over all streams), so the
// connector status shows it and a restart does not reset it; a spent daily
// budget is the stream's last error until the next UTC day. The
// x-rate-limit-remaining and x-rate-limit-reset headers are honoured before
// each request, and a 429 waits for the reset; 5xx and network failures are
// retried, then left to the supervisor's backoff. 401 and 403 are
// connectors.ErrUnauthorized.
package x
