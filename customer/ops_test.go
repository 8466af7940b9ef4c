package customer

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/testwait"
)

func TestLinkAndUnlink(t *testing.T) {
	s := openStore(t, testConfig())
	ctx := context.Background()
	observe(t, s, msg("facebook", "7011", "", "Tilaus 1180442", t0, 1))
	observe(t, s, msg("email", "maija@example.fi", "", "Tilaus 1180442", t0.Add(time.Hour), 2))
	observe(t, s, msg("x", "555", "", "hei", t0, 3))

	// Ops link the X account to her.
	c, changes, err := s.Link(ctx, "x:555", "email:maija@example.fi")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Keys) != 4 || len(changes) != 1 || c.Strength != Confirmed {
		t.Fatalf("linked %+v, changes %+v", c, changes)
	}
	// A key the store has not seen can be linked too.
	if _, _, err := s.Link(ctx, "phone:+358401234567", "x:555"); err != nil {
		t.Fatal(err)
	}
	if got := customerKeys(t, s, "phone:+358401234567"); len(got) != 5 {
		t.Fatalf("customer %q", got)
	}

	// Unlink the Facebook account from the mail address: the order number
	// connects both, so one of its links goes.
	changes, err = s.Unlink(ctx, "fb:7011", "email:maija@example.fi")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || len(changes[0].To) != 2 || !strings.Contains(changes[0].Why, "ops") {
		t.Fatalf("changes %+v", changes)
	}
	fb := customerKeys(t, s, "fb:7011")
	mail := customerKeys(t, s, "email:maija@example.fi")
	if slices.Contains(fb, "email:maija@example.fi") || len(fb)+len(mail) != 5 {
		t.Fatalf("after unlink: %q / %q", fb, mail)
	}
	// They stay apart even when a message links them again …
	r := observe(t, s, msg("facebook", "7011", "", "Tilaus 1180442 ja maija@example.fi", t0.Add(2*time.Hour), 4))
	if len(r.Skipped) == 0 || !strings.Contains(r.Skipped[0].Reason, ReasonApart) {
		t.Fatalf("skipped %+v", r.Skipped)
	}
	if got := customerKeys(t, s, "fb:7011"); slices.Contains(got, "email:maija@example.fi") {
		t.Fatalf("joined again: %q", got)
	}
	if _, err := s.Unlink(ctx, "fb:7011", "email:maija@example.fi"); !errors.Is(err, ErrNotLinked) {
		t.Fatalf("second unlink: %v", err)
	}
	// … until ops link them.
	if _, _, err := s.Link(ctx, "fb:7011", "email:maija@example.fi"); err != nil {
		t.Fatal(err)
	}
	if got := customerKeys(t, s, "fb:7011"); !slices.Contains(got, "email:maija@example.fi") {
		t.Fatalf("not linked back: %q", got)
	}
	if _, _, err := s.Link(ctx, "fb:7011", "fb:7011"); err == nil {
		t.Fatal("linked a key to itself")
	}
}

func TestShowUnknownKey(t *testing.T) {
	s := openStore(t, testConfig())
	if _, err := s.Show(context.Background(), "email:nobody@example.fi"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err %v", err)
	}
	if _, err := s.Forget(context.Background(), "email:nobody@example.fi"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err %v", err)
	}
}

// rawContents returns everything the bucket's stream holds: subjects,
// headers and data of every message still stored.
func rawContents(t *testing.T, ctx context.Context, js jetstream.JetStream, bucket string) string {
	t.Helper()
	var b strings.Builder
	for _, m := range bustest.Messages(ctx, t, js, "KV_"+bucket) {
		h, _ := json.Marshal(m.Header)
		b.WriteString(m.Subject + " " + string(h) + " " + string(m.Data) + "\n")
	}
	return b.String()
}

func TestForgetLeavesNoTrace(t *testing.T) {
	// Ids are long enough that no hash, slot or timestamp in the bucket
	// holds them by chance (a three-digit id once did).
	b := openBus(t)
	s := openOn(t, b, testConfig())
	ctx := context.Background()
	her := []*struct {
		ch, id, name, text string
	}{
		{"facebook", "100070110000123", "Maija Meikäläinen", "Tilaus 1180442 ei tullut, soita 040 123 4567"},
		{"x", "1869205558311475", "Maija Meikäläinen", "Hei"},
		{"email", "maija@example.fi", "Maija Meikäläinen", "Kirjoitin myös X:ssä. Tilaus 1180442."},
	}
	for i, m := range her {
		observe(t, s, msg(m.ch, m.id, m.name, m.text, t0.Add(time.Duration(i)*time.Hour), i))
	}
	// Someone else with the same name, who stays.
	observe(t, s, msg("facebook", "7099", "Maija Meikäläinen", "Kiitos", t0.Add(30*time.Hour), 9))
	c, err := s.Show(ctx, "fb:100070110000123")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Keys) != 5 {
		t.Fatalf("before: %+v", c.Keys)
	}

	f, err := s.Forget(ctx, "order:1180442")
	if err != nil {
		t.Fatal(err)
	}
	var forgotten []string
	for _, k := range f.Keys {
		forgotten = append(forgotten, string(k))
	}
	slices.Sort(forgotten)
	want := []string{"email:maija@example.fi", "fb:100070110000123", "order:1180442", "phone:+358401234567", "x:1869205558311475"}
	if !slices.Equal(forgotten, want) || f.ID != c.ID || len(f.Items) != 3 {
		t.Fatalf("forgotten %+v", f)
	}
	for _, k := range want {
		if _, err := s.Show(ctx, identity.Key(k)); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("show %s after forget: %v", k, err)
		}
	}
	raw := rawContents(t, ctx, b.JS, DefaultBucket) + rawContents(t, ctx, b.JS, DefaultBucket+"_items")
	for _, k := range want {
		for _, trace := range []string{k, keyHash(identity.Key(k)), strings.TrimPrefix(k[strings.Index(k, ":")+1:], "+")} {
			if strings.Contains(raw, trace) {
				t.Errorf("the bucket still holds %q (of %s)", trace, k)
			}
		}
	}
	for _, it := range f.Items {
		if strings.Contains(raw, it) {
			t.Errorf("the bucket still holds item %s", it)
		}
	}
	if !strings.Contains(raw, keyHash("fb:7099")) {
		t.Error("the other customer went too")
	}
	if got := customerKeys(t, s, "fb:7099"); !slices.Equal(got, []string{"fb:7099"}) {
		t.Fatalf("the other customer: %q", got)
	}
}

func TestHalfDoneChangesAreFinished(t *testing.T) {
	s := openStore(t, testConfig())
	ctx := context.Background()
	observe(t, s, msg("facebook", "7011", "", "hei", t0, 1))
	observe(t, s, msg("email", "a@example.fi", "", "hei", t0, 2))
	ra, _, _ := s.customerOf(ctx, "fb:7011")
	rb, _, _ := s.customerOf(ctx, "email:a@example.fi")

	// A merge cut short right after its commit point (the forward, with
	// the data and the link that justifies it).
	src, dst := ra.Slot, rb.Slot
	if src < dst {
		src, dst = dst, src
	}
	e := entryOf(t, s, prefixRecord+src)
	w := editable[record](e)
	w.Forward = dst
	w.Via = &link{Keys: []string{"email:a@example.fi", "fb:7011"}, Strength: Confirmed, By: byOps, At: t0}
	if _, err := save(ctx, s.v, prefixRecord+src, w, e); err != nil {
		t.Fatal(err)
	}
	// Whoever reads a key of the merged-away record finishes the merge.
	srcKey := identity.Key("fb:7011")
	if src == rb.Slot {
		srcKey = "email:a@example.fi"
	}
	if got := customerKeys(t, s, srcKey); !slices.Equal(got, []string{"email:a@example.fi", "fb:7011"}) {
		t.Fatalf("after the half merge: %q", got)
	}
	if r, _, _ := s.loadRecord(ctx, src); r == nil || len(r.Keys) != 0 || r.Forward != dst {
		t.Fatalf("merged-away record %+v", r)
	}

	// A claim whose writer died: others wait for it, then take the key.
	kk := prefixKey + keyHash("x:555")
	if _, err := save(ctx, s.v, kk, &keyRecord{Key: "x:555", Slot: "deadbeef", Claim: "deadbeef"}, entry{absent: true}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err := s.Observe(short, msg("x", "555", "", "hei", t0, 3))
	cancel()
	if err == nil {
		t.Fatal("took a fresh claim of another writer")
	}
	s.inflightFor = time.Millisecond
	testwait.NoError(t, 0, "the abandoned claim to be taken over", func() error {
		r, err := s.Observe(ctx, msg("x", "555", "", "hei", t0, 3))
		if err == nil && r.Customer == nil {
			err = errors.New("no customer")
		}
		return err
	})
}

func entryOf(t *testing.T, s *Store, key string) entry {
	t.Helper()
	e, err := s.v.fresh(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
