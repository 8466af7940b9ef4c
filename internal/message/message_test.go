package message

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := func() Envelope {
		return Envelope{Version: 1, ID: "web:abc", Channel: "web", Kind: KindWeb, SourceID: "abc", Text: "hei", CreatedAt: time.Now()}
	}
	tests := []struct {
		name    string
		mutate  func(*Envelope)
		wantErr string
	}{
		{"valid", func(*Envelope) {}, ""},
		{"bad version", func(e *Envelope) { e.Version = 99 }, "v: unsupported"},
		{"bad channel", func(e *Envelope) { e.Channel = "Web.x"; e.ID = "Web.x:abc" }, "channel:"},
		{"bad kind", func(e *Envelope) { e.Kind = "fax" }, "kind:"},
		{"no source", func(e *Envelope) { e.SourceID = ""; e.ID = "web:" }, "source_id: missing"},
		{"id mismatch", func(e *Envelope) { e.ID = "web:other" }, "id:"},
		{"no text", func(e *Envelope) { e.Text = "  " }, "text: missing"},
		{"subject only", func(e *Envelope) { e.Text = ""; e.Subject = "Lasku" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good()
			tt.mutate(&e)
			err := e.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRoutedJSONFlattensEnvelope(t *testing.T) {
	r := Routed{Envelope: Envelope{Version: 1, ID: "web:1", Channel: "web", Kind: KindWeb, SourceID: "1", Text: "x"}, Team: "billing"}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["id"] != "web:1" || m["team"] != "billing" {
		t.Fatalf("routed JSON not flat: %s", b)
	}
}

func TestResponseValidate(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ok := Response{Version: 1, ID: "facebook:1_2", Channel: "facebook", Kind: "comment", SourceID: "1_2", InReplyTo: "facebook:1_1", At: at}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid response: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Response)
		want   string
	}{
		{"no link", func(r *Response) { r.InReplyTo = "" }, "in_reply_to or thread_id"},
		{"thread is a link", func(r *Response) { r.InReplyTo, r.ThreadID = "", "t_1" }, ""},
		{"no time", func(r *Response) { r.At = time.Time{} }, "at: missing"},
		{"bad status", func(r *Response) { r.Status = "done" }, "status"},
		{"bad channel", func(r *Response) { r.Channel = "Face Book" }, "channel"},
		{"version", func(r *Response) { r.Version = 9 }, "schema version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.change(&r)
			err := r.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDefaultKindIsAValidKindForEveryChannel(t *testing.T) {
	for channel, want := range map[string]Kind{"facebook": KindComment, "x": KindMention, "email": KindEmail, "web": KindWeb, "other": KindWeb} {
		if got := DefaultKind(channel); got != want || !got.Valid() {
			t.Errorf("DefaultKind(%q) = %q, want %q", channel, got, want)
		}
	}
}
