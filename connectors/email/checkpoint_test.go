package email

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/testwait"
)

func TestDecodeCheckpoint(t *testing.T) {
	tests := []struct {
		name, in, err string
		mailboxes     int
	}{
		{"first start", "", "", 0},
		{"saved", `{"v":1,"mailboxes":{"INBOX":{"uidvalidity":7,"last_uid":42,"last_arrival":"2014-02-03T10:00:00Z"}}}`, "", 1},
		{"garbage", "{not json", "decoding email checkpoint", 0},
		{"other version", `{"v":2,"mailboxes":{}}`, "version 2", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, err := decodeCheckpoint([]byte(tt.in))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if len(cp.Mailboxes) != tt.mailboxes || cp.Mailboxes == nil {
				t.Fatalf("checkpoint %+v", cp)
			}
		})
	}
	cp, _ := decodeCheckpoint([]byte(tests[1].in))
	if mc := cp.Mailboxes["INBOX"]; mc.UIDValidity != 7 || mc.LastUID != 42 || !mc.LastArrival.Equal(time.Date(2014, 2, 3, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("INBOX = %+v", mc)
	}
}

// TestCorruptCheckpointStartsOver: an unreadable checkpoint is reported and
// the mailbox is read as on a first start (re-reads are deduplicated).
func TestCorruptCheckpointStartsOver(t *testing.T) {
	s := startServer(t, serverOpts{})
	h := newHarness(t)
	if err := (bus.Checkpoints{KV: h.bus.KV}).Save(context.Background(), "email.support", []byte("{garbage")); err != nil {
		t.Fatal(err)
	}
	s.deliver(t, "INBOX", readFixture(t, "gmail_reply.eml"), time.Now().Add(-time.Hour))
	h.run(h.options(s))
	h.waitEnvelopes(1)
	testwait.Until(t, waitFor, "a valid checkpoint", func() bool {
		raw, err := bus.Checkpoints{KV: h.bus.KV}.Load(context.Background(), "email.support")
		cp, derr := decodeCheckpoint(raw)
		return err == nil && derr == nil && cp.Mailboxes["INBOX"].LastUID == 1
	})
}
