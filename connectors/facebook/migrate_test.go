package facebook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// TestMigrationFromVersion1: a page polled by the old connector (checkpoint
// version 1, watermark an hour ago) starts with this one. Nothing older
// than the recovery window is read again; the comments on old posts that
// the old polling missed in the last 23 hours are recovered (on watched
// posts by the feed pass, on older posts by the sweep); those it did store
// are dropped as duplicates; Messenger goes on from its watermark.
func TestMigrationFromVersion1(t *testing.T) {
	fake := newFake(t)
	p20 := fake.AddPost(pageID, visitor, "kolme viikkoa sitten", t0.Add(-20*day))
	a := fake.AddComment(p20, visitor2, "viisi päivää sitten", t0.Add(-5*day), "")
	b := fake.AddComment(p20, visitor2, "kolme tuntia sitten", t0.Add(-3*time.Hour), "")
	c := fake.AddComment(p20, visitor2, "äsken", t0.Add(-10*time.Minute), "")
	p40 := fake.AddPost(pageID, visitor, "yli kuukausi sitten", t0.Add(-40*day))
	d := fake.AddComment(p40, visitor2, "viisi päivää sitten", t0.Add(-5*day), "")
	e2 := fake.AddComment(p40, visitor2, "kaksi tuntia sitten", t0.Add(-2*time.Hour), "")
	p2 := fake.AddPost(pageID, visitor, "toissapäivänä", t0.Add(-2*day))
	g := fake.AddComment(p2, visitor, "neljä tuntia sitten", t0.Add(-4*time.Hour), "") // the old polling stored this one
	pNew := fake.AddPost(pageID, visitor2, "uusi", t0.Add(-30*time.Minute))
	f := fake.AddComment(pNew, visitor, "uuden kommentti", t0.Add(-20*time.Minute), "")
	mOld := fake.AddMessage(pageID, "t_9", visitor, "luettu jo", t0.Add(-2*time.Hour))
	mNew := fake.AddMessage(pageID, "t_9", visitor, "uusi viesti", t0.Add(-5*time.Minute))

	e := newEnv(t, fake)
	ctx := context.Background()
	v1 := fmt.Sprintf(`{"v":1,"feed":{"floor":%d,"watermark":%d,"seen":{}},"messages":{"floor":%d,"watermark":%d}}`,
		t0.Add(-10*day).Unix(), t0.Add(-time.Hour).Unix(), t0.Add(-10*day).Unix(), t0.Add(-time.Hour).Unix())
	if err := e.store.Save(ctx, "facebook."+pageID, []byte(v1)); err != nil {
		t.Fatal(err)
	}
	pub := e.pub.(*memPub)
	if _, err := pub.PublishIngest(ctx, &message.Envelope{Version: 1, ID: "facebook:" + g, Channel: "facebook", Kind: message.KindComment,
		SourceID: g, Text: "neljä tuntia sitten", CreatedAt: t0.Add(-4 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.start(e.opts(), pageConfig(pageID, pageToken))
	e.mustPoll(pageID)

	for _, id := range []string{b, c, e2, g, pNew, f, mNew} {
		if pub.get(id) == nil {
			t.Errorf("%s not ingested after the migration", id)
		}
	}
	for _, id := range []string{a, d, p20, p40, p2, mOld} {
		if pub.get(id) != nil {
			t.Errorf("%s, read by the old polling or older than the recovery, was ingested again", id)
		}
	}
	if s := e.status(pageID); s.Duplicates != 1 || s.Ingested != 6 {
		t.Errorf("ingested %d with %d duplicates, want 6 new and the one the old polling stored", s.Ingested, s.Duplicates)
	}
	raw, err := e.store.Load(ctx, "facebook."+pageID)
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		V       int   `json:"v"`
		Recover int64 `json:"recover"`
		Feed    struct {
			Watermark int64 `json:"watermark"`
		} `json:"feed"`
	}
	if err := json.Unmarshal(raw, &cp); err != nil || cp.V != 2 || cp.Recover != 0 || cp.Feed.Watermark != t0.Unix() {
		t.Fatalf("checkpoint after the migration %s (%v)", raw, err)
	}

	fake.Advance(time.Minute)
	before := snapCosts(fake)
	_, attempts := pub.count()
	e.trigger(pageID)
	if d := before.to(snapCosts(fake)); d != (costs{all: 2, feed: 1, conv: 1}) {
		t.Fatalf("idle poll after the migration cost %+v", d)
	}
	if _, n := pub.count(); n != attempts {
		t.Fatal("the recovery was read again")
	}
}
