package responses

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router/decisions"
)

func TestDecodeView(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	full, err := json.Marshal(decisions.Record{V: 1, ID: "x:1", Channel: "x", Kind: "dm", CreatedAt: at, RoutedAt: at,
		Outcome: "routed", Teams: []string{"billing"}, Priority: "high", Conversation: "x:c", Snippet: `quote " and \ and ä`,
		Response: &decisions.Response{ID: "x:2", At: at, Status: "responded"},
		History:  []decisions.Event{{At: at, Kind: "routed", Detail: `{"id": "nested"}`}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []string{
		string(full),
		`{"id": "a\u00e4", "teams": null, "response": null}`,
		`{"ID": "case", "id": "x"}`,
		`{"response": {"id": "a", "by": "x"}, "response": {"id": "b"}}`,
		`{"id": 5}`,
		`{"id": "x", "channel": "\ud800"}`,
		`{"id": "x", "kind": "bad` + "\xff" + `"}`,
		`null`,
		`[]`,
		`{"id": "x",}`,
		`{"a": [1, {"b": "]"}], "id": "y"}  `,
	}
	for _, in := range tests {
		checkView(t, []byte(in))
	}
}

// checkView compares decodeView with json.Unmarshal, the reference: on
// input json.Unmarshal accepts, both give the same view.
func checkView(t *testing.T, data []byte) {
	t.Helper()
	var want recordView
	wantErr := json.Unmarshal(data, &want)
	var got recordView
	err := decodeView(data, &got)
	if wantErr != nil {
		return // invalid input: any result, no panic
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeView(%q):\n got %+v %v\nwant %+v", data, got, err, want)
	}
}

func FuzzDecodeView(f *testing.F) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	full, _ := json.Marshal(decisions.Record{ID: "x:1", Teams: []string{"a"}, CreatedAt: at, Response: &decisions.Response{ID: "r"}})
	for _, s := range []string{string(full), `{"id":"a","teams":["b","c"]}`, `{"response":{"by":"x"},"Response":null}`, `{"id":"\u00e4"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkView(t, data) })
}
