package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/config"
)

func TestTeamWorkerReadsItsQueueAndNothingElse(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	cfg := bustest.Config(t)
	cfg.NATS.Embedded.TeamWorkers = []config.TeamWorker{{Team: "billing", NKey: pub}}
	b := listening(t, cfg)
	ctx := context.Background()
	for _, team := range []string{"billing", "sales"} {
		if _, err := b.JS.Publish(ctx, b.Subjects.Team(team), []byte(`{"team":"`+team+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	connect := func(t *testing.T, opts ...nats.Option) jetstream.JetStream {
		t.Helper()
		nc, err := nats.Connect(b.ClientURL(), append(opts, nats.Nkey(pub, kp.Sign))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	own := jetstream.ConsumerConfig{Durable: "billing", FilterSubject: "switchboard.team.billing", AckPolicy: jetstream.AckExplicitPolicy}

	js := connect(t, nats.CustomInboxPrefix(bus.TeamInboxPrefix("billing")))
	cons, err := js.CreateOrUpdateConsumer(ctx, "SWITCHBOARD_TEAM", own)
	if err != nil {
		t.Fatalf("creating the team's own consumer: %v", err)
	}
	batch, err := cons.FetchNoWait(10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for m := range batch.Messages() {
		got = append(got, string(m.Data()))
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	if len(got) != 1 || got[0] != `{"team":"billing"}` {
		t.Fatalf("the billing worker read %q", got)
	}

	denied := []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"publish a forged ingest item", func(ctx context.Context) error {
			_, err := js.Publish(ctx, "switchboard.ingest.email", []byte(`{}`))
			return err
		}},
		{"write into its own queue", func(ctx context.Context) error {
			_, err := js.Publish(ctx, "switchboard.team.billing", []byte(`{}`))
			return err
		}},
		{"list streams", func(ctx context.Context) error {
			names := js.StreamNames(ctx)
			for range names.Name() {
			}
			return names.Err()
		}},
		{"consume the ingest stream", func(ctx context.Context) error {
			_, err := js.CreateOrUpdateConsumer(ctx, "SWITCHBOARD_INGEST", jetstream.ConsumerConfig{Durable: "billing", FilterSubject: "switchboard.ingest.>"})
			return err
		}},
		{"read another team's queue", func(ctx context.Context) error {
			_, err := js.CreateOrUpdateConsumer(ctx, "SWITCHBOARD_TEAM", jetstream.ConsumerConfig{Durable: "billing", FilterSubject: "switchboard.team.sales"})
			return err
		}},
		{"another consumer name", func(ctx context.Context) error {
			_, err := js.CreateOrUpdateConsumer(ctx, "SWITCHBOARD_TEAM", jetstream.ConsumerConfig{Durable: "sales", FilterSubject: "switchboard.team.sales"})
			return err
		}},
		{"get a message directly", func(ctx context.Context) error {
			s, err := js.Stream(ctx, "SWITCHBOARD_TEAM")
			if err != nil {
				return err
			}
			_, err = s.GetMsg(ctx, 2)
			return err
		}},
		{"purge the dead letters", func(ctx context.Context) error {
			s, err := js.Stream(ctx, "SWITCHBOARD_DEAD")
			if err != nil {
				return err
			}
			return s.Purge(ctx)
		}},
		{"without its inbox prefix", func(ctx context.Context) error {
			_, err := connect(t).CreateOrUpdateConsumer(ctx, "SWITCHBOARD_TEAM", own)
			return err
		}},
	}
	t.Run("denied", func(t *testing.T) {
		for _, tt := range denied {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel() // each waits out its timeout: the server never answers
				ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				defer cancel()
				if err := tt.do(ctx); err == nil {
					t.Fatal("allowed")
				}
			})
		}
	})
	if info, err := b.JS.Stream(ctx, "SWITCHBOARD_TEAM"); err != nil || info.CachedInfo().State.Msgs != 2 {
		t.Fatalf("team stream after the attempts: %v", err)
	}
}
