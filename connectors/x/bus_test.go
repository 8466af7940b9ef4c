package x

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
)

// TestOverlapStoredOnceOnJetStream runs the mentions and a search stream on
// a real embedded JetStream: a post that is both a mention and a search hit
// is one message on the ingest stream (same Nats-Msg-Id "x:<id>"), and a
// restart from the KV checkpoints stores nothing again.
func TestOverlapStoredOnceOnJetStream(t *testing.T) {
	b := bustest.Open(t, nil)
	e := newEnv(t)
	e.api.AddPost(
		xtest.Post{ID: pid(1), Text: "@acme #acme lasku väärin", AuthorID: "2001", Mentions: []string{account}, Terms: []string{"#acme"}},
		xtest.Post{ID: pid(2), Text: "@acme kiitos", AuthorID: "2002", Mentions: []string{account}},
		xtest.Post{ID: pid(3), Text: "#acme paketti", AuthorID: "2002", Terms: []string{"#acme"}},
	)
	o := searchOptions(e)
	o.Mentions = true

	run := func() *connectors.Supervisor {
		cs, err := newStreams(o, hooks{now: e.clk.Now, sleep: e.step.sleep, pageSize: e.pageSize})
		if err != nil {
			t.Fatal(err)
		}
		sup := connectors.NewSupervisor(connectors.SupervisorOptions{Publisher: b, Checkpoints: bus.Checkpoints{KV: b.KV}, Backoff: backoff.Policy{Min: time.Millisecond, Max: 5 * time.Millisecond}, Log: e.log})
		ctx, cancel := context.WithCancel(context.Background())
		for _, c := range cs {
			if err := sup.Start(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		e.step.waitPolled(t, mentionsName)
		e.step.waitPolled(t, brandName)
		cancel()
		sup.Wait()
		return sup
	}
	sup := run()
	var ingested, dups uint64
	for _, st := range sup.Statuses() {
		ingested += st.Ingested
		dups += st.Duplicates
	}
	if ingested != 3 || dups != 1 {
		t.Fatalf("statuses %+v: want 3 stored, 1 duplicate", sup.Statuses())
	}
	got := ingestIDs(t, b)
	if len(got) != 3 || got["x:"+pid(1)] != 1 {
		t.Fatalf("ingest stream holds %v, want each of 3 posts once", got)
	}

	// A restart resumes from the checkpoints in KV: nothing is read twice.
	e.api.AddPost(xtest.Post{ID: pid(4), Text: "@acme #acme uusi", AuthorID: "2001", Mentions: []string{account}, Terms: []string{"#acme"}})
	run()
	got = ingestIDs(t, b)
	if len(got) != 4 || got["x:"+pid(4)] != 1 || got["x:"+pid(1)] != 1 {
		t.Fatalf("after restart the ingest stream holds %v", got)
	}
	for _, rq := range e.api.Requests("")[len(e.api.Requests(""))-2:] {
		if rq.Query.Get("since_id") == "" {
			t.Fatalf("restart did not resume from the KV checkpoint: %v", rq.Query)
		}
	}
}

// ingestIDs counts the envelope ids on the ingest stream.
func ingestIDs(t *testing.T, b *bus.Bus) map[string]int {
	t.Helper()
	_, msgs := connectortest.IngestStream(t, b)
	out := map[string]int{}
	for _, m := range msgs {
		var env message.Envelope
		if err := json.Unmarshal(m.Data, &env); err != nil {
			t.Fatal(err)
		}
		if m.Subject != b.Subjects.Ingest("x") || m.Header.Get("Nats-Msg-Id") != env.ID {
			t.Fatalf("message on %s with id %q for %s", m.Subject, m.Header.Get("Nats-Msg-Id"), env.ID)
		}
		out[env.ID]++
	}
	return out
}
