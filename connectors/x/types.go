package x

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/internal/message"
)

// Tweet is a post object as the v2 API returns it with the fields this
// connector asks for (tweetFields). Only id and text are always present.
type Tweet struct {
	ID                  string            `json:"id"`
	Text                string            `json:"text"`
	AuthorID            string            `json:"author_id"`
	ConversationID      string            `json:"conversation_id"`
	CreatedAt           string            `json:"created_at"`
	Lang                string            `json:"lang"`
	InReplyToUserID     string            `json:"in_reply_to_user_id"`
	ReferencedTweets    []ReferencedTweet `json:"referenced_tweets"`
	EditHistoryTweetIDs []string          `json:"edit_history_tweet_ids"`
	NoteTweet           *NoteTweet        `json:"note_tweet"`
}

// ReferencedTweet is one entry of referenced_tweets. On a post, type is
// "replied_to", "quoted" or "retweeted"; on a DM event only id is set.
type ReferencedTweet struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// NoteTweet holds the full text of a post longer than 280 characters.
type NoteTweet struct {
	Text string `json:"text"`
}

// User is an expanded user object (includes.users).
type User struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

// Includes holds the expanded objects of a response: the authors
// (expansions=author_id or sender_id) and the referenced posts
// (expansions=referenced_tweets.id).
type Includes struct {
	Users  []User  `json:"users"`
	Tweets []Tweet `json:"tweets"`
	// Malformed counts included objects that did not decode; they are
	// dropped so that one bad object does not lose the page.
	Malformed int `json:"-"`
}

// UnmarshalJSON decodes includes object by object, dropping (and counting)
// the ones that do not decode instead of failing the whole page.
func (in *Includes) UnmarshalJSON(b []byte) error {
	var raw struct {
		Users  []json.RawMessage `json:"users"`
		Tweets []json.RawMessage `json:"tweets"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*in = Includes{}
	in.Users = decodeEach[User](raw.Users, &in.Malformed)
	in.Tweets = decodeEach[Tweet](raw.Tweets, &in.Malformed)
	return nil
}

// decodeEach decodes each of raws into a T, leaving out (and adding to
// *malformed) the ones that do not decode.
func decodeEach[T any](raws []json.RawMessage, malformed *int) []T {
	var out []T
	for _, r := range raws {
		var v T
		if json.Unmarshal(r, &v) != nil {
			*malformed++
			continue
		}
		out = append(out, v)
	}
	return out
}

// Meta is the meta object of a list response. DM responses carry only
// result_count, next_token and previous_token.
type Meta struct {
	ResultCount   int    `json:"result_count"`
	NewestID      string `json:"newest_id"`
	OldestID      string `json:"oldest_id"`
	NextToken     string `json:"next_token"`
	PreviousToken string `json:"previous_token"`
}

// Problem is an error object: the problem JSON body of a failed request
// ({"title","detail","type","status"}), or one entry of the "errors" array
// beside "data" in a partial response (which adds value, parameter,
// resource_type and resource_id).
type Problem struct {
	Title        string `json:"title"`
	Detail       string `json:"detail"`
	Type         string `json:"type"`
	Status       int    `json:"status"`
	Value        string `json:"value"`
	Parameter    string `json:"parameter"`
	ResourceType string `json:"resource_type"`
	ResourceID   string `json:"resource_id"`
	Section      string `json:"section"`
	Reason       string `json:"reason"`
	// Errors lists the invalid parameters of an invalid-request problem.
	Errors []ParameterError `json:"errors"`
	// Message and Code are the older {"code","message"} error shape, which
	// X still sends for some 429s.
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// ParameterError is one entry of an invalid-request problem's errors.
type ParameterError struct {
	Message    string              `json:"message"`
	Parameters map[string][]string `json:"parameters"`
}

// String renders p for logs and errors: title, detail and what it is about.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(firstNonEmpty(p.Title, p.Message, "error"))
	if p.Detail != "" && p.Detail != p.Title {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	for _, e := range p.Errors {
		if e.Message != "" {
			b.WriteString("; ")
			b.WriteString(e.Message)
		}
	}
	if p.Type != "" && p.Type != "about:blank" {
		fmt.Fprintf(&b, " (%s)", p.Type)
	}
	return message.Clip(b.String(), 600)
}

// Problems is the "errors" array of a response. It decodes entry by entry:
// an entry that is not an error object becomes a Problem saying so, rather
// than failing the page it came with.
type Problems []Problem

// UnmarshalJSON decodes the entries one by one.
func (ps *Problems) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Problems, 0, len(raw))
	for _, r := range raw {
		var p Problem
		if err := json.Unmarshal(r, &p); err != nil {
			p = Problem{Title: "malformed error object", Detail: message.Clip(string(r), 200)}
		}
		out = append(out, p)
	}
	*ps = out
	return nil
}

// TweetPage is one page of a mentions or recent-search response. Data is
// kept raw so that one malformed post does not lose the page.
type TweetPage struct {
	Data     []json.RawMessage `json:"data"`
	Includes Includes          `json:"includes"`
	Meta     Meta              `json:"meta"`
	Errors   Problems          `json:"errors"`
}

// DMEvent is a DM event object with the fields this connector asks for.
type DMEvent struct {
	ID               string            `json:"id"`
	EventType        string            `json:"event_type"`
	Text             string            `json:"text"`
	SenderID         string            `json:"sender_id"`
	DMConversationID string            `json:"dm_conversation_id"`
	CreatedAt        string            `json:"created_at"`
	ReferencedTweets []ReferencedTweet `json:"referenced_tweets"`
	Attachments      *DMAttachments    `json:"attachments"`
}

// DMAttachments lists media attached to a DM.
type DMAttachments struct {
	MediaKeys []string `json:"media_keys"`
}

// DMPage is one page of a GET /2/dm_events response.
type DMPage struct {
	Data     []json.RawMessage `json:"data"`
	Includes Includes          `json:"includes"`
	Meta     Meta              `json:"meta"`
	Errors   Problems          `json:"errors"`
}

// TokenResponse is the body of a successful POST /2/oauth2/token.
type TokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	AccessToken  string `json:"access_token"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
}

// oauthError is the body of a failed POST /2/oauth2/token.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
