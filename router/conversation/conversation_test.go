package conversation

import (
	"reflect"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
)

func env(kind message.Kind, channel, id, thread, parent string) *message.Envelope {
	return &message.Envelope{ID: channel + ":" + id, Channel: channel, Kind: kind, SourceID: id, ThreadID: thread, ParentID: parent}
}

func TestResolve(t *testing.T) {
	known := func(team string) bool { return team != "removed" }
	comment := env(message.KindComment, "facebook", "c2", "post1", "post1")
	reply := env(message.KindReply, "facebook", "r1", "post1", "c1")
	chat := env(message.KindMessage, "facebook", "m3", "t_99", "")
	dm := env(message.KindDM, "x", "d2", "1-2", "")
	mention := env(message.KindMention, "x", "t5", "t1", "t4")
	tests := []struct {
		name string
		in   Input
		want Result
	}{
		{
			name: "own text decides, even with a parent",
			in:   Input{Env: reply, Decided: true, Teams: []string{"logistics"}, Parent: &Prior{ID: "facebook:c1", Teams: []string{"sales"}, Conversation: "facebook:c1"}},
			want: Result{Teams: []string{"logistics"}, Reason: ReasonText, Conversation: "facebook:c1"},
		},
		{
			name: "a reply that decides nothing follows its parent, not the thread",
			in: Input{Env: reply, Teams: []string{"triage"}, Parent: &Prior{ID: "facebook:c1", Teams: []string{"logistics"}, Conversation: "facebook:c1"},
				Latest: &Prior{ID: "facebook:c0", Teams: []string{"sales"}}},
			want: Result{Teams: []string{"logistics"}, Reason: ReasonParent, Followed: "facebook:c1", Conversation: "facebook:c1"},
		},
		{
			name: "a comment on the page's own post (never routed) is its own conversation",
			in:   Input{Env: comment, Teams: []string{"triage"}, Latest: &Prior{ID: "facebook:c1", Teams: []string{"sales"}}},
			want: Result{Teams: []string{"triage"}, Reason: ReasonDefault, Conversation: "facebook:c2"},
		},
		{
			name: "a chat message that decides nothing follows the chat's latest item",
			in:   Input{Env: chat, Teams: []string{"triage"}, Latest: &Prior{ID: "facebook:m2", Teams: []string{"billing"}, Conversation: "facebook:t_99"}},
			want: Result{Teams: []string{"billing"}, Reason: ReasonConversation, Followed: "facebook:m2", Conversation: "facebook:t_99"},
		},
		{
			name: "a DM that decides follows nothing",
			in:   Input{Env: dm, Decided: true, Teams: []string{"privacy"}, Latest: &Prior{ID: "x:d1", Teams: []string{"billing"}}},
			want: Result{Teams: []string{"privacy"}, Reason: ReasonText, Conversation: "x:1-2"},
		},
		{
			name: "an X reply follows the tweet it answers",
			in:   Input{Env: mention, Teams: []string{"triage"}, Parent: &Prior{ID: "x:t4", Teams: []string{"product"}, Conversation: "x:t3"}},
			want: Result{Teams: []string{"product"}, Reason: ReasonParent, Followed: "x:t4", Conversation: "x:t3"},
		},
		{
			name: "a parent routed to a removed team does not decide",
			in:   Input{Env: reply, Teams: []string{"triage"}, Parent: &Prior{ID: "facebook:c1", Teams: []string{"removed"}}, Known: known},
			want: Result{Teams: []string{"triage"}, Reason: ReasonDefault, Conversation: "facebook:r1"},
		},
		{
			name: "the parent's removed teams are dropped, the others kept",
			in:   Input{Env: reply, Teams: []string{"triage"}, Parent: &Prior{ID: "facebook:c1", Teams: []string{"removed", "billing"}}, Known: known},
			want: Result{Teams: []string{"billing"}, Reason: ReasonParent, Followed: "facebook:c1", Conversation: "facebook:r1"},
		},
		{
			name: "nothing decides: the customer's open case does",
			in:   Input{Env: comment, Teams: []string{"triage"}, Cases: []Case{{ID: "k1", Team: "billing"}, {ID: "k0", Team: "sales"}}},
			want: Result{Teams: []string{"billing"}, Reason: ReasonCase, Conversation: "facebook:c2", Case: &Case{ID: "k1", Team: "billing"}},
		},
		{
			name: "text decides the case's team: joins it",
			in:   Input{Env: comment, Decided: true, Teams: []string{"billing"}, Cases: []Case{{ID: "k1", Team: "billing"}}},
			want: Result{Teams: []string{"billing"}, Reason: ReasonText, Conversation: "facebook:c2", Case: &Case{ID: "k1", Team: "billing"}},
		},
		{
			name: "text decides another team: goes there, names the open case",
			in:   Input{Env: comment, Decided: true, Teams: []string{"privacy"}, Cases: []Case{{ID: "k1", Team: "billing"}}},
			want: Result{Teams: []string{"privacy"}, Reason: ReasonText, Conversation: "facebook:c2", Related: &Case{ID: "k1", Team: "billing"}},
		},
		{
			name: "following a parent into the case's team joins the case",
			in: Input{Env: reply, Teams: []string{"triage"}, Parent: &Prior{ID: "facebook:c1", Teams: []string{"billing"}},
				Cases: []Case{{ID: "k2", Team: "sales"}, {ID: "k1", Team: "billing"}}},
			want: Result{Teams: []string{"billing"}, Reason: ReasonParent, Followed: "facebook:c1", Conversation: "facebook:r1",
				Case: &Case{ID: "k1", Team: "billing"}, Related: &Case{ID: "k2", Team: "sales"}},
		},
		{
			name: "a case of a removed team is ignored",
			in:   Input{Env: comment, Teams: []string{"triage"}, Cases: []Case{{ID: "k1", Team: "removed"}}, Known: known},
			want: Result{Teams: []string{"triage"}, Reason: ReasonDefault, Conversation: "facebook:c2"},
		},
		{
			name: "noise (no teams) stays noise",
			in:   Input{Env: comment, Cases: []Case{{ID: "k1", Team: "billing"}}},
			want: Result{Reason: ReasonText, Conversation: "facebook:c2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Resolve:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPrivate(t *testing.T) {
	tests := []struct {
		env  *message.Envelope
		want bool
	}{
		{env(message.KindMessage, "facebook", "m", "t_1", ""), true},
		{env(message.KindDM, "x", "d", "1-2", ""), true},
		{env(message.KindEmail, "email", "a@b", "root@b", "root@b"), true},
		{env(message.KindWeb, "web", "f", "form-thread", ""), true},
		{env(message.KindWeb, "web", "f", "", ""), false},
		{env(message.KindComment, "facebook", "c", "post", "post"), false},
		{env(message.KindMention, "x", "t", "root", "p"), false},
		{env(message.KindPost, "facebook", "p", "p", ""), false},
	}
	for _, tt := range tests {
		if got := Private(tt.env); got != tt.want {
			t.Errorf("Private(%s %s) = %v, want %v", tt.env.Kind, tt.env.ID, got, tt.want)
		}
	}
}

// A route with sticky: true chose a team but defers to the conversation:
// its team applies only when there is nothing to follow.
func TestResolveDeferred(t *testing.T) {
	chat := env(message.KindMessage, "facebook", "m2", "t_1", "")
	latest := &Prior{ID: "facebook:m1", Teams: []string{"billing"}}
	got := Resolve(Input{Env: chat, Teams: []string{"sales"}, Deferred: true, Latest: latest})
	if got.Reason != ReasonConversation || got.Teams[0] != "billing" {
		t.Fatalf("deferred with a conversation: %+v, want it to follow billing", got)
	}
	got = Resolve(Input{Env: chat, Teams: []string{"sales"}, Deferred: true})
	if got.Reason != ReasonText || got.Teams[0] != "sales" {
		t.Fatalf("deferred with nothing to follow: %+v, want the route's team by text", got)
	}
	got = Resolve(Input{Env: chat, Teams: []string{"sales"}, Deferred: true, Cases: []Case{{ID: "k1", Team: "billing"}}})
	if got.Reason != ReasonCase || got.Case == nil {
		t.Fatalf("deferred with an open case: %+v, want the case", got)
	}
}

// The model's decision yields to a parent or a private conversation: it
// reads a short reply as well as it can, but what it answers knows better.
func TestResolveModelYieldsToContext(t *testing.T) {
	reply := env(message.KindReply, "facebook", "r1", "post1", "c1")
	parent := &Prior{ID: "facebook:c1", Teams: []string{"logistics"}}
	got := Resolve(Input{Env: reply, Decided: true, Weak: true, Teams: []string{"billing"}, Parent: parent})
	if got.Reason != ReasonParent || got.Teams[0] != "logistics" {
		t.Fatalf("model-decided reply: %+v, want it to follow its parent", got)
	}
	got = Resolve(Input{Env: reply, Decided: true, Weak: true, Teams: []string{"billing"}})
	if got.Reason != ReasonText || got.Teams[0] != "billing" {
		t.Fatalf("model-decided item with nothing to follow: %+v, want the model's team", got)
	}
	got = Resolve(Input{Env: reply, Decided: true, Teams: []string{"billing"}, Parent: parent})
	if got.Reason != ReasonText {
		t.Fatalf("a route's decision: %+v, want it to win over the parent", got)
	}
}
