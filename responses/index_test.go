package responses

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

func testPolicy(t testing.TB) *sla.Policy {
	t.Helper()
	c := config.Default()
	c.Responses.ServiceLevels.Default.Targets = map[string]yamlfile.Duration{"public": yamlfile.Duration(time.Hour), "private": yamlfile.Duration(4 * time.Hour)}
	c.Responses.Escalation.Levels = []float64{1, 2}
	p, err := sla.New(c.Responses)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testEntry(i int, created time.Time) entry {
	id := fmt.Sprintf("facebook:104123456789_%012d", i)
	return entry{ID: id, Conversation: id, Channel: "facebook", Kind: "comment", Priority: "normal", Teams: []string{"billing"},
		CreatedAt: created, RoutedAt: created}
}

// The index keeps items by conversation and in order of need.
func TestIndex(t *testing.T) {
	tr := New(TrackerConfig{}, Deps{Policy: testPolicy(t)})
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	x := tr.idx
	for i := range 5 {
		e := testEntry(i, t0.Add(time.Duration(i)*time.Minute))
		e.Conversation = "c" + fmt.Sprint(i%2)
		x.put(tr.item(e, nil))
	}
	if got := len(x.conversation("c0", t0.Add(2*time.Minute))); got != 2 {
		t.Fatalf("c0 up to 10:02: %d items, want 2", got)
	}
	due := x.dueBy(t0.Add(time.Hour+90*time.Second), 10)
	if len(due) != 2 || !due[0].created.time().Equal(t0) {
		t.Fatalf("due at 11:01:30: %d items", len(due))
	}
	x.remove(due[0].id)
	if x.len() != 4 || len(x.conversation("c0", t0.Add(time.Hour))) != 2 {
		t.Fatal("remove left the item in an index")
	}
	// Escalating level 1 moves the item to its level-2 time.
	it := due[1]
	it.teams[0].escalated = 1
	x.rescheduled(it)
	if !it.next.time().Equal(it.created.time().Add(2 * time.Hour)) {
		t.Fatalf("next after level 1: %s", it.next.time())
	}
	if got := x.dueBy(t0.Add(time.Hour+90*time.Second), 10); len(got) != 0 {
		t.Fatalf("%d due after escalation, want 0", len(got))
	}
	for _, id := range []string{"nope", it.id} {
		x.remove(id)
	}
	if x.len() != 3 || x.due.Len() != 3 {
		t.Fatalf("len %d heap %d", x.len(), x.due.Len())
	}
}

// BenchmarkOpenSet measures the open set at 100,000 items: its memory
// (heap after GC, items with realistic ids, one team, two levels), and
// opening plus answering one more item.
func BenchmarkOpenSet(b *testing.B) {
	const n = 100_000
	now := time.Now().UTC()
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
			before := heapInUse()
			tr := New(TrackerConfig{}, Deps{Policy: testPolicy(b)})
			for i := range n {
				tr.idx.put(tr.item(testEntry(i, now.Add(-time.Duration(i)*time.Second)), nil))
			}
			after := heapInUse()
			b.ReportMetric(float64(after-before)/(1<<20), "MB/100k-items")
			b.ReportMetric(float64(after-before)/n, "B/item")
			runtime.KeepAlive(tr)
		}
	})
	b.Run("open+answer", func(b *testing.B) {
		tr := New(TrackerConfig{}, Deps{Policy: testPolicy(b)})
		for i := range n {
			tr.idx.put(tr.item(testEntry(i, now.Add(-time.Duration(i)*time.Second)), nil))
		}
		i := n
		for b.Loop() {
			e := testEntry(i, now)
			tr.idx.put(tr.item(e, nil))
			tr.idx.conversation(e.Conversation, now)
			tr.idx.remove(e.ID)
			i++
		}
	})
}

// recordView decodes the same fields as decisions.Record.
func TestRecordViewMatchesRecord(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	full := decisions.Record{V: 1, ID: "x:1", Channel: "x", Kind: "dm", CreatedAt: at, RoutedAt: at.Add(time.Second),
		Outcome: decisions.OutcomeRouted, Teams: []string{"billing", "sales"}, Priority: "high", Conversation: "x:conv",
		Response: &decisions.Response{ID: "x:2", At: at.Add(time.Hour), Status: "responded", DelaySeconds: 3600},
		History:  []decisions.Event{{At: at, Kind: decisions.EventRouted}}, Snippet: "s", Author: "a"}
	data, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var v recordView
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	got := v.record()
	want := &decisions.Record{ID: full.ID, Channel: full.Channel, Kind: full.Kind, CreatedAt: full.CreatedAt, RoutedAt: full.RoutedAt,
		Outcome: full.Outcome, Teams: full.Teams, Priority: full.Priority, Conversation: full.Conversation, Response: full.Response}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("view\n got %+v\nwant %+v", got, want)
	}
}
