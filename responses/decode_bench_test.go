package responses

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router/decisions"
)

func benchRecordJSON(b *testing.B) []byte {
	at := time.Now().UTC()
	rec := decisions.Record{V: 1, ID: "facebook:104123456789_887766554433", Seq: 12345, Channel: "facebook", Kind: "comment",
		ThreadID: "104123456789_998877665544", ParentID: "104123456789_998877665544", Author: "Maija Meikäläinen",
		Snippet:   "Laskussani on kaksi kertaa sama tilaus, kenelle voin soittaa? Tilausnumero on 1180442 ja summa 59,90 €.",
		CreatedAt: at, ReceivedAt: at, RoutedAt: at, UpdatedAt: at, Outcome: decisions.OutcomeRouted, Teams: []string{"billing"},
		Reason: decisions.ReasonText, RulesVersion: "3f9a1c2b7d10", Routes: []decisions.RouteMatch{{ID: "billing-fi", Words: []string{"lasku", "tilaus"}}},
		Lang: "fi", Topics: []string{"invoice"}, Priority: "normal", Tags: []string{"double-charge"}, Conversation: "facebook:104123456789_887766554433",
		Delivery: []decisions.Delivery{{Team: "billing", Target: "nats", OK: true, At: at, Attempts: 1}},
		History:  []decisions.Event{{At: at, Kind: decisions.EventRouted, Teams: []string{"billing"}}, {At: at, Kind: decisions.EventDelivered, Teams: []string{"billing"}}}}
	data, err := json.Marshal(rec)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkDecodeRecordView(b *testing.B) {
	data := benchRecordJSON(b)
	b.SetBytes(int64(len(data)))
	b.Run("view", func(b *testing.B) {
		for b.Loop() {
			var v recordView
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			var r decisions.Record
			if err := json.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeView(b *testing.B) {
	data := benchRecordJSON(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var v recordView
		if err := decodeView(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}
