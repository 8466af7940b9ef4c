package facebook_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/testwait"
)

// streamMsgs returns how many envelopes the ingest stream holds.
func streamMsgs(t *testing.T, b *bus.Bus) uint64 {
	t.Helper()
	state, _ := connectortest.IngestStream(t, b)
	return state.Msgs
}

// TestRestartResumesWithoutGapOrDuplicate runs a page against an embedded
// JetStream backbone, stops it, lets things happen, and starts it again: what
// happened while it was down is ingested, nothing is published twice. Then
// the checkpoint is lost: everything is read again and the ingest dedup
// (Nats-Msg-Id) keeps the stream free of duplicates.
func TestRestartResumesWithoutGapOrDuplicate(t *testing.T) {
	b := bustest.Open(t, nil)
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "Tilaus myöhässä", t0.Add(-2*time.Hour))
	fake.AddComment(post, visitor2, "Sama juttu", t0.Add(-time.Hour), "")
	fake.AddComment(post, visitor, "Vieläkin odotan", t0.Add(-30*time.Second), "") // inside the overlap
	ancient := fake.AddPost(pageID, visitor, "vanha", t0.Add(-100*24*time.Hour))
	fake.AddMessage(pageID, "t_1", visitor, "Hei", t0.Add(-time.Hour))
	const before = 4

	run := func() *tenv {
		e := newEnv(t, fake)
		e.pub, e.store = b, bus.Checkpoints{KV: b.KV}
		e.start(e.opts(), pageConfig(pageID, pageToken))
		e.mustPoll(pageID)
		return e
	}
	e := run()
	if n := streamMsgs(t, b); n != before {
		t.Fatalf("first run stored %d, want %d", n, before)
	}
	e.stop()

	// While the connector is down (long enough for the sweep of older
	// posts to be due at the restart).
	fake.Advance(7 * time.Hour)
	now := fake.Now()
	fake.AddComment(post, visitor, "Missä paketti?", now.Add(-20*time.Minute), "")
	fake.AddComment(ancient, visitor2, "Herätys", now.Add(-10*time.Minute), "")
	fake.AddPost(pageID, visitor2, "Uusi valitus", now.Add(-5*time.Minute))
	fake.AddMessage(pageID, "t_1", visitor, "Vastatkaa", now.Add(-time.Minute))
	const during = 4

	e = run()
	if n := streamMsgs(t, b); n != before+during {
		t.Fatalf("after the restart the stream holds %d, want %d (gap or duplicate)", n, before+during)
	}
	if s := e.status(pageID); s.Ingested != during || s.Duplicates != 0 {
		t.Fatalf("restart ingested %d with %d duplicates, want %d and none: the checkpoint must prevent re-publishing", s.Ingested, s.Duplicates, during)
	}
	e.stop()

	// The checkpoint is lost (or was never saved after an acked publish).
	if err := b.KV.Delete(context.Background(), "checkpoint.facebook."+pageID); err != nil {
		t.Fatal(err)
	}
	e = run()
	if n := streamMsgs(t, b); n != before+during {
		t.Fatalf("without a checkpoint the stream holds %d, want still %d", n, before+during)
	}
	if s := e.status(pageID); s.Ingested != 0 || s.Duplicates != before+during {
		t.Fatalf("re-read ingested %d new and %d duplicates, want 0 and %d", s.Ingested, s.Duplicates, before+during)
	}
}

// TestNewTokenBackfillsTheGap: an expired token stops the page (unauthorized);
// a new token written to its file is picked up on the supervisor's retry and
// what happened meanwhile is read from the checkpoint on.
func TestNewTokenBackfillsTheGap(t *testing.T) {
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "ennen", t0.Add(-time.Hour))
	dir := t.TempDir()
	file := filepath.Join(dir, "page.token")
	if err := os.WriteFile(file, []byte(pageToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, fake)
	cfg := pageConfig(pageID, "")
	cfg.Token = func() (string, error) {
		b, err := os.ReadFile(file)
		return string(b), err
	}
	e.start(e.opts(), cfg)
	e.mustPoll(pageID)

	fake.ExpireToken(pageID, 463)
	fake.Advance(time.Minute)
	e.runs[pageID].page.Trigger()
	if err := e.wait(pageID); err == nil {
		t.Fatal("poll with an expired token succeeded")
	}
	e.waitState(pageID, connectors.StateUnauthorized)

	// Days pass.
	fake.Advance(3 * 24 * time.Hour)
	now := fake.Now()
	c := fake.AddComment(post, visitor2, "kukaan ei vastaa", now.Add(-2*24*time.Hour), "")
	p := fake.AddPost(pageID, visitor2, "huhuu", now.Add(-time.Hour))
	m := fake.AddMessage(pageID, "t_5", visitor, "hei?", now.Add(-30*time.Minute))

	const newToken = "EAAG-rotated-token"
	fake.SetToken(pageID, newToken)
	if err := os.WriteFile(file, []byte(newToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testwait.NoError(t, 10*time.Second, "a successful poll after the token was replaced", func() error {
		return testwait.Receive(t, 10*time.Second, "a poll", e.runs[pageID].polls)
	})
	pub := e.pub.(*memPub)
	for _, id := range []string{c, p, m} {
		if pub.get(id) == nil {
			t.Errorf("%s from the outage not ingested", id)
		}
	}
	s := e.waitState(pageID, connectors.StateRunning)
	if !strings.Contains(s.LastError, "token was rejected") {
		t.Errorf("last error %q", s.LastError)
	}
	if n := e.metric("switchboard_facebook_token_rejected", map[string]string{"page": pageID}); n != 0 {
		t.Errorf("token_rejected = %v after the new token worked", n)
	}
	e.assertNoLeak(pageToken, newToken)
}
