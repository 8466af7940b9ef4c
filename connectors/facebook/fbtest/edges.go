package fbtest

import (
	"cmp"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The orders summary.order reports.
const (
	orderChronological = "chronological"
	orderReverse       = "reverse_chronological"
	orderRanked        = "ranked"
)

func encodeCursor(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(off)))
}

func decodeCursor(c string) int {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// nextURL is an absolute paging link, carrying the token like Facebook's.
func (s *Server) nextURL(path string, q url.Values, token string, off int) string {
	q = cloneValues(q)
	q.Set("access_token", token)
	q.Set("after", encodeCursor(off))
	return s.srv.URL + "/" + s.version + "/" + path + "?" + q.Encode()
}

func cloneValues(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}

// listPage answers one page of an edge: the items of all from offset on,
// at most limit, each as render makes it (nil leaves it out: the Graph API
// filters after paging), and the paging, with next's URL of the page after
// it (from end on) when there is more.
func listPage[T any](all []T, offset, limit int, render func(T) map[string]any, next func(end int) string) map[string]any {
	data := []map[string]any{}
	end := min(offset+limit, len(all))
	for _, v := range all[min(offset, len(all)):end] {
		if item := render(v); item != nil {
			data = append(data, item)
		}
	}
	nextURL := ""
	if end < len(all) {
		nextURL = next(end)
	}
	return map[string]any{"data": data, "paging": paging(nextURL, offset, end)}
}

func paging(next string, before, after int) map[string]any {
	p := map[string]any{"cursors": map[string]string{"before": encodeCursor(before), "after": encodeCursor(after)}}
	if next != "" {
		p["next"] = next
	}
	return p
}

func ts(t time.Time) string { return t.UTC().Format(TimeLayout) }

var modRE = regexp.MustCompile(`\.([a-z_]+)\(([a-z_0-9]*)\)`)

// topFields splits a fields parameter at its top-level commas.
func topFields(fields string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(fields); i++ {
		switch fields[i] {
		case '{', '(':
			depth++
		case '}', ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, fields[start:i])
				start = i + 1
			}
		}
	}
	if start < len(fields) {
		out = append(out, fields[start:])
	}
	return out
}

// expansion finds field name in a fields parameter and returns its
// modifiers (".limit(25)" → limit: 25) and its own fields (the text in
// braces).
func expansion(fields, name string) (mods map[string]string, sub string, ok bool) {
	for _, f := range topFields(fields) {
		if f != name && !strings.HasPrefix(f, name+".") && !strings.HasPrefix(f, name+"{") {
			continue
		}
		rest := f[len(name):]
		brace := strings.IndexByte(rest, '{')
		modText := rest
		if brace >= 0 {
			modText, sub = rest[:brace], strings.TrimSuffix(rest[brace+1:], "}")
		}
		mods = map[string]string{}
		for _, mm := range modRE.FindAllStringSubmatch(modText, -1) {
			mods[mm[1]] = mm[2]
		}
		return mods, sub, true
	}
	return nil, "", false
}

// commentOpts are the modifiers of a comments request.
type commentOpts struct {
	stream, reverse, summary bool
	limit                    int
}

func commentOptsOf(filter, order, summary string, limit int) commentOpts {
	return commentOpts{stream: filter == "stream", reverse: order == orderReverse, summary: summary == "true" || summary == "1", limit: limit}
}

// nestedComments reads the comments expansion of a fields parameter.
func nestedComments(fields string) (o commentOpts, commentFields string, ok bool) {
	mods, sub, ok := expansion(fields, "comments")
	if !ok {
		return o, "", false
	}
	limit := 25
	if n, err := strconv.Atoi(mods["limit"]); err == nil {
		limit = n
	}
	return commentOptsOf(mods["filter"], mods["order"], mods["summary"], limit), sub, true
}

// hasField reports whether a fields parameter names field at its top level
// (or, with no fields parameter, whether field is among the defaults).
func hasField(fields, field string, defaults ...string) bool {
	if fields == "" {
		return slices.Contains(defaults, field)
	}
	_, _, ok := expansion(fields, field)
	return ok
}

func (s *Server) feed(pg *page, q url.Values, limit, offset int) map[string]any {
	var since int64 = -1 << 62
	if v := q.Get("since"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			since = n
		}
	}
	key := func(p *Post) time.Time {
		if s.lenient {
			return p.Updated
		}
		return p.Created
	}
	var posts []*Post
	for _, p := range pg.posts {
		if key(p).Unix() >= since {
			posts = append(posts, p)
		}
	}
	slices.SortStableFunc(posts, func(a, b *Post) int { return key(b).Compare(key(a)) })
	fields := q.Get("fields")
	copts, commentFields, expand := nestedComments(fields)
	return listPage(posts, offset, limit, func(p *Post) map[string]any {
		if p.Filtered {
			return nil
		}
		item := map[string]any{
			"id": p.ID, "created_time": ts(p.Created), "updated_time": ts(p.Updated),
			"message": p.Message, "permalink_url": "https://www.facebook.com/" + strings.ReplaceAll(p.ID, "_", "/posts/"),
			"from": p.From, "is_published": !p.Unpublished,
		}
		if expand {
			c := s.listComments(p, copts, commentFields, 0, pg.token, true)
			if len(c["data"].([]map[string]any)) > 0 || copts.summary {
				item["comments"] = c
			}
		}
		return item
	}, func(end int) string { return s.nextURL(pg.id+"/feed", q, pg.token, end) })
}

// commentsEdge answers GET /{post-id}/comments.
func (s *Server) commentsEdge(p *Post, o commentOpts, fields string, offset int, token string) map[string]any {
	return s.listComments(p, o, fields, offset, token, false)
}

// listComments lists a post's comments. A nested expansion's paging.next keeps
// only limit and the cursor.
func (s *Server) listComments(p *Post, o commentOpts, fields string, offset int, token string, nested bool) map[string]any {
	var all []*Comment
	for _, c := range p.Comments {
		if o.stream || c.Parent == "" {
			all = append(all, c)
		}
	}
	order := orderChronological
	switch {
	case p.Ranked:
		order = orderRanked
		slices.SortStableFunc(all, func(a, b *Comment) int {
			return cmp.Or(cmp.Compare(len(b.Message), len(a.Message)), a.Created.Compare(b.Created))
		})
	case o.reverse:
		order = orderReverse
		slices.SortStableFunc(all, func(a, b *Comment) int { return b.Created.Compare(a.Created) })
	default:
		slices.SortStableFunc(all, func(a, b *Comment) int { return a.Created.Compare(b.Created) })
	}
	out := listPage(all, offset, o.limit, func(c *Comment) map[string]any {
		if c.Withheld || c.Deleted {
			return nil
		}
		item := map[string]any{"id": c.ID, "created_time": ts(c.Created)}
		if hasField(fields, "message", "message") {
			item["message"] = c.Message
		}
		if hasField(fields, "from", "from") {
			item["from"] = c.From
		}
		if hasField(fields, "permalink_url") {
			item["permalink_url"] = "https://www.facebook.com/" + strings.ReplaceAll(p.ID, "_", "/posts/") + "?comment_id=" + c.ID
		}
		if hasField(fields, "is_hidden") {
			item["is_hidden"] = c.Hidden
		}
		if c.Parent != "" && hasField(fields, "parent") {
			item["parent"] = map[string]string{"id": c.Parent}
		}
		return item
	}, func(end int) string {
		q := url.Values{"limit": {strconv.Itoa(o.limit)}}
		if !nested {
			if fields != "" {
				q.Set("fields", fields)
			}
			if o.stream {
				q.Set("filter", "stream")
			}
			if o.reverse {
				q.Set("order", orderReverse)
			}
			if o.summary {
				q.Set("summary", "true")
			}
		}
		return s.nextURL(p.ID+"/comments", q, token, end)
	})
	if o.summary {
		out["summary"] = map[string]any{"order": order, "total_count": len(all), "can_comment": true}
	}
	return out
}

func (s *Server) conversations(pg *page, q url.Values, limit, offset int) map[string]any {
	convs := append([]*Conversation(nil), pg.convs...)
	slices.SortStableFunc(convs, func(a, b *Conversation) int { return b.Updated.Compare(a.Updated) })
	fields := q.Get("fields")
	msgLimit, msgFields := 0, ""
	if mods, sub, ok := expansion(fields, "messages"); ok {
		msgLimit, msgFields = 25, sub
		if n, err := strconv.Atoi(mods["limit"]); err == nil {
			msgLimit = n
		}
	}
	return listPage(convs, offset, limit, func(c *Conversation) map[string]any {
		item := map[string]any{"id": c.ID, "updated_time": ts(c.Updated), "link": "/" + pg.id + "/inbox/" + c.ID}
		if msgLimit > 0 {
			item["messages"] = s.listMessages(c, msgLimit, msgFields, 0, pg.token, true)
		}
		return item
	}, func(end int) string { return s.nextURL(pg.id+"/conversations", q, pg.token, end) })
}

// messagesEdge answers GET /{conversation-id}/messages.
func (s *Server) messagesEdge(c *Conversation, limit int, fields string, offset int, token string) map[string]any {
	return s.listMessages(c, limit, fields, offset, token, false)
}

// listMessages lists a conversation's messages, newest first. Without fields a
// message has only its id and created_time, as on the Graph API.
func (s *Server) listMessages(c *Conversation, limit int, fields string, offset int, token string, nested bool) map[string]any {
	ms := append([]*Message(nil), c.Messages...)
	slices.SortStableFunc(ms, func(a, b *Message) int { return b.Created.Compare(a.Created) })
	return listPage(ms, offset, limit, func(m *Message) map[string]any {
		item := map[string]any{"id": m.ID, "created_time": ts(m.Created)}
		if hasField(fields, "message") {
			item["message"] = m.Text
		}
		if hasField(fields, "from") {
			item["from"] = map[string]string{"id": m.From.ID, "name": m.From.Name, "email": m.From.ID + "@facebook.com"}
		}
		return item
	}, func(end int) string {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if !nested && fields != "" {
			q.Set("fields", fields)
		}
		return s.nextURL(c.ID+"/messages", q, token, end)
	})
}
