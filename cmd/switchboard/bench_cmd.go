package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/rules"
)

const benchUsage = `usage: switchboard bench [-n N] [-size B] [-workers W] [-rules FILE] [-config FILE] [-timeout D] [-json]

Measure the real pipeline in-process: an embedded NATS JetStream server on a
temporary directory and a random port, the router built as "run" builds it,
and N generated Finnish and English messages (billing, logistics, product,
general questions) published to the ingest stream. Reports throughput,
ingest-to-queue latency, the cost of rules.Classify alone and peak heap.
Nothing outside the process is touched; the temporary directory is removed.

Only router.rules_file and the router and delivery sections of the config
are used. Teams are delivered to their NATS queues only: redis and webhook
targets in the rules are replaced by the team's NATS queue (reported).`

// benchPublishers is how many goroutines publish concurrently, like several
// connectors polling at once.
const benchPublishers = 4

// benchOptions are the parsed flags of "switchboard bench".
type benchOptions struct {
	config, rules string
	n, size       int
	workers       int
	json          bool
	timeout       time.Duration
}

// benchReport is what "switchboard bench" measured; -json prints it as is.
type benchReport struct {
	// Messages were published to the ingest stream and acked by the router.
	Messages int `json:"messages"`
	// Routed reached at least one team queue; Noise were acked without
	// delivery (rules said noise); DeadLettered went to the dead-letter stream.
	Routed       int `json:"routed"`
	Noise        int `json:"noise"`
	DeadLettered int `json:"dead_lettered"`
	// TeamCopies counts items in the team queues, per team in Teams.
	TeamCopies int            `json:"team_copies"`
	Teams      map[string]int `json:"teams"`
	// Workers is router.workers in effect.
	Workers int `json:"workers"`
	// AvgTextBytes is the mean generated text size.
	AvgTextBytes int    `json:"avg_text_bytes"`
	RulesFile    string `json:"rules_file"`
	RulesVersion string `json:"rules_version"`
	// ReplacedTargets lists non-NATS targets of the rules that the bench
	// delivered to the team's NATS queue instead.
	ReplacedTargets []string `json:"replaced_targets,omitempty"`
	// WallSeconds runs from the first publish to the router's ack of the last
	// message; Throughput is Messages / WallSeconds.
	WallSeconds float64 `json:"wall_seconds"`
	Throughput  float64 `json:"throughput_msgs_per_sec"`
	// Latency is received_at to the team stream's timestamp, per team copy.
	Latency latencyReport `json:"ingest_to_queue_ms"`
	// Classify is rules.Classify alone over the same messages, one goroutine.
	Classify classifyReport `json:"classify"`
	// PeakHeapBytes is the highest runtime HeapAlloc sampled during the run
	// (the embedded NATS server runs in this process and is included).
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
}

// latencyReport holds quantiles in milliseconds.
type latencyReport struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// classifyReport is the cost of one rules.Classify call.
type classifyReport struct {
	NsPerOp     float64 `json:"ns_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
}

// benchCmd implements "switchboard bench".
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard bench", benchUsage, stdout, stderr)
	var o benchOptions
	fs.StringVar(&o.config, "config", "config.yaml", "configuration file (only router.rules_file, router and delivery are used)")
	fs.StringVar(&o.rules, "rules", "", "rules file (default: router.rules_file of -config)")
	fs.IntVar(&o.n, "n", 20000, "messages to publish and route")
	fs.IntVar(&o.size, "size", 300, "approximate text size in bytes")
	fs.IntVar(&o.workers, "workers", 0, "override router.workers")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up when the run takes longer")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	switch {
	case len(pos) > 0:
		return fs.Usagef("unexpected argument %q", pos[0])
	case o.n < 1:
		return fs.Usagef("-n must be at least 1, got %d", o.n)
	case o.size < 1:
		return fs.Usagef("-size must be at least 1, got %d", o.size)
	case o.workers < 0:
		return fs.Usagef("-workers must not be negative, got %d", o.workers)
	case o.timeout <= 0:
		return fs.Usagef("-timeout must be positive, got %s", o.timeout)
	}
	rep, err := runBench(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard bench:", err)
		return 1
	}
	if o.json {
		return printJSON(stdout, stderr, "switchboard bench", rep)
	}
	printBench(stdout, rep)
	return 0
}

// runBench starts the backbone and the router, routes o.n generated
// messages, measures, and tears everything down again.
func runBench(ctx context.Context, o benchOptions, stderr io.Writer) (*benchReport, error) {
	loaded, err := config.Load(o.config)
	if err != nil {
		return nil, fmt.Errorf("%w (bench uses only router.rules_file and the router and delivery sections; pass -config FILE)", err)
	}
	rulesFile := loaded.Router.RulesFile
	if o.rules != "" {
		rulesFile = o.rules
	}
	rs, err := rules.Load(rulesFile)
	if err != nil {
		return nil, fmt.Errorf("loading rules: %w", err)
	}
	natsRules, replaced := natsOnly(rs)
	for _, r := range replaced {
		fmt.Fprintf(stderr, "switchboard bench: note: %s delivers to its NATS queue in this bench\n", r)
	}

	dir, err := os.MkdirTemp("", "switchboard-bench-")
	if err != nil {
		return nil, fmt.Errorf("creating the temporary store directory: %w", err)
	}
	defer os.RemoveAll(dir)

	cfg := config.Default()
	cfg.DataDir = dir
	cfg.NATS.Embedded.Listen = "127.0.0.1:0"
	cfg.NATS.Embedded.StoreDir = filepath.Join(dir, "jetstream")
	cfg.Router = loaded.Router
	cfg.Router.RulesFile = rulesFile
	if o.workers > 0 {
		cfg.Router.Workers = o.workers
	}
	cfg.Delivery = loaded.Delivery
	cfg.Delivery.Redis.URL, cfg.Delivery.Redis.URLFile = "", "" // NATS targets only

	log, err := telemetry.NewLogger("console", "warn", stderr)
	if err != nil {
		return nil, err
	}
	defer func() { _ = log.Sync() }()

	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	envs := benchEnvelopes(o.n, o.size)
	rep := &benchReport{
		Messages: o.n, Workers: cfg.Router.Workers, RulesFile: rulesFile, RulesVersion: rs.Version(),
		ReplacedTargets: replaced, Teams: map[string]int{},
	}
	total := 0
	for _, e := range envs {
		total += len(e.Text)
	}
	rep.AvgTextBytes = total / len(envs)

	sampler := startHeapSampler(50 * time.Millisecond)
	err = benchPipeline(ctx, &cfg, natsRules, envs, rep, log.Named("bench"))
	rep.PeakHeapBytes = sampler.stop()
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (within -timeout %s)", err, o.timeout)
		}
		return nil, err
	}
	rep.Classify = measureClassify(rs, envs)
	return rep, nil
}

// benchPipeline runs the backbone and the router, publishes envs, waits for
// the router to ack them all and reads the team queues back into rep.
func benchPipeline(ctx context.Context, cfg *config.Config, rs router.Ruleset, envs []*message.Envelope, rep *benchReport, log *zap.Logger) error {
	b, err := bus.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	metrics, err := telemetry.NewMetrics()
	if err != nil {
		return err
	}
	rt, closeDelivery, err := buildRouter(ctx, cfg, b, router.Static(rs), metrics, log.Named("router"), nil)
	if err != nil {
		return err
	}
	defer closeDelivery()

	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()
	var routerErr error
	routerStopped := make(chan struct{})
	go func() {
		defer close(routerStopped)
		routerErr = rt.Run(routerCtx, 10*time.Second)
	}()
	defer func() {
		stopRouter()
		select {
		case <-routerStopped:
		case <-time.After(15 * time.Second):
			log.Warn("the router did not stop within 15s")
		}
	}()

	start := time.Now()
	if err := publishAll(ctx, b, envs); err != nil {
		return err
	}
	stream, err := b.JS.Stream(ctx, b.Subjects.IngestStream)
	if err != nil {
		return fmt.Errorf("looking up stream %s: %w", b.Subjects.IngestStream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", b.Subjects.IngestStream, err)
	}
	if info.State.Msgs != uint64(len(envs)) {
		return fmt.Errorf("stream %s holds %d messages after publishing %d", b.Subjects.IngestStream, info.State.Msgs, len(envs))
	}
	if err := waitAcked(ctx, b, cfg.Router.Consumer, info.State.LastSeq, routerStopped, &routerErr); err != nil {
		return err
	}
	wall := time.Since(start)
	rep.WallSeconds = wall.Seconds()
	rep.Throughput = float64(len(envs)) / wall.Seconds()

	lat, ids, err := readTeamQueues(ctx, b, rep.Teams)
	if err != nil {
		return err
	}
	rep.Routed = ids
	rep.TeamCopies = len(lat)
	rep.Latency = quantiles(lat)
	noise, err := metrics.Noise()
	if err != nil {
		return err
	}
	rep.Noise = int(noise)
	dead, err := b.JS.Stream(ctx, b.Subjects.DeadStream)
	if err != nil {
		return fmt.Errorf("looking up stream %s: %w", b.Subjects.DeadStream, err)
	}
	deadInfo, err := dead.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading stream %s: %w", b.Subjects.DeadStream, err)
	}
	rep.DeadLettered = int(deadInfo.State.Msgs)
	return nil
}

// publishAll publishes envs to the ingest stream from benchPublishers
// goroutines, stamping received_at just before each publish.
func publishAll(ctx context.Context, b *bus.Bus, envs []*message.Envelope) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *message.Envelope)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range benchPublishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for env := range next {
				env.ReceivedAt = time.Now().UTC()
				dup, err := b.PublishIngest(ctx, env)
				if err == nil && dup {
					err = fmt.Errorf("publishing %s: the ingest stream already held it", env.ID)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
feed:
	for _, env := range envs {
		select {
		case next <- env:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("publishing to the ingest stream: %w", err)
	}
	return nil
}

// waitAcked polls the router's consumer until its ack floor reaches last,
// the router stops or ctx ends.
func waitAcked(ctx context.Context, b *bus.Bus, consumer string, last uint64, routerStopped <-chan struct{}, routerErr *error) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var acked uint64
	for {
		if c, err := b.JS.Consumer(ctx, b.Subjects.IngestStream, consumer); err == nil {
			if ci, err := c.Info(ctx); err == nil {
				acked = ci.AckFloor.Stream
				if acked >= last {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the router: it acked %d of %d messages: %w", acked, last, ctx.Err())
		case <-routerStopped:
			return fmt.Errorf("the router stopped after acking %d of %d messages: %v", acked, last, *routerErr)
		case <-tick.C:
		}
	}
}

// readTeamQueues reads every item of the team stream and returns, per
// item, the time from received_at to the stream's timestamp; it counts
// items per team into teams and returns how many distinct envelopes arrived.
func readTeamQueues(ctx context.Context, b *bus.Bus, teams map[string]int) (lat []time.Duration, distinct int, err error) {
	name := b.Subjects.TeamStream
	stream, err := b.JS.Stream(ctx, name)
	if err != nil {
		return nil, 0, fmt.Errorf("looking up stream %s: %w", name, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
	}
	want := int(info.State.Msgs)
	if want == 0 {
		return nil, 0, nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
	}
	ids := make(map[string]struct{}, want)
	lat = make([]time.Duration, 0, want)
	for len(lat) < want {
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("reading stream %s: got %d of %d items: %w", name, len(lat), want, err)
		}
		batch, err := cons.Fetch(min(1000, want-len(lat)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
		}
		for m := range batch.Messages() {
			meta, err := m.Metadata()
			if err != nil {
				return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
			}
			var item struct {
				ID         string    `json:"id"`
				Team       string    `json:"team"`
				ReceivedAt time.Time `json:"received_at"`
			}
			if err := json.Unmarshal(m.Data(), &item); err != nil {
				return nil, 0, fmt.Errorf("stream %s sequence %d: decoding the routed item: %w", name, meta.Sequence.Stream, err)
			}
			lat = append(lat, meta.Timestamp.Sub(item.ReceivedAt))
			ids[item.ID] = struct{}{}
			teams[item.Team]++
		}
		if err := batch.Error(); err != nil {
			return nil, 0, fmt.Errorf("reading stream %s: %w", name, err)
		}
	}
	return lat, len(ids), nil
}

// quantiles returns p50, p90, p99 and max of d in milliseconds.
func quantiles(d []time.Duration) latencyReport {
	if len(d) == 0 {
		return latencyReport{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return ms(s[max(i, 0)])
	}
	return latencyReport{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measureClassify times rules.Classify alone over envs on this goroutine
// (at least 200 ms of passes after one warm-up pass) and counts its
// allocations over one more pass with GOMAXPROCS 1, as testing.AllocsPerRun
// does.
func measureClassify(rs *rules.Rules, envs []*message.Envelope) classifyReport {
	noise := 0
	for _, e := range envs {
		if rs.Classify(e).Noise {
			noise++
		}
	}
	calls := 0
	start := time.Now()
	for calls == 0 || time.Since(start) < 200*time.Millisecond {
		for _, e := range envs {
			if rs.Classify(e).Noise {
				noise++
			}
		}
		calls += len(envs)
	}
	elapsed := time.Since(start)

	prev := runtime.GOMAXPROCS(1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, e := range envs {
		if rs.Classify(e).Noise {
			noise++
		}
	}
	runtime.ReadMemStats(&after)
	runtime.GOMAXPROCS(prev)
	runtime.KeepAlive(noise)
	n := float64(len(envs))
	return classifyReport{
		NsPerOp:     float64(elapsed.Nanoseconds()) / float64(calls),
		AllocsPerOp: float64(after.Mallocs-before.Mallocs) / n,
		BytesPerOp:  float64(after.TotalAlloc-before.TotalAlloc) / n,
	}
}

// heapSampler records the highest HeapAlloc seen.
type heapSampler struct {
	quit, done chan struct{}
	peak       uint64
}

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			h.sample()
			select {
			case <-h.quit:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.peak = max(h.peak, m.HeapAlloc)
}

// stop ends sampling and returns the peak.
func (h *heapSampler) stop() uint64 {
	close(h.quit)
	<-h.done
	h.sample()
	return h.peak
}

// natsOnlyRules is a ruleset whose teams deliver to NATS only.
type natsOnlyRules struct {
	*rules.Rules
	teams []rules.Team
}

// Teams returns the teams with NATS targets only.
func (r natsOnlyRules) Teams() []rules.Team { return r.teams }

// natsOnly returns rs with every team that has a redis or webhook target
// delivering to its NATS queue instead, and a line per changed team.
func natsOnly(rs *rules.Rules) (router.Ruleset, []string) {
	teams := slices.Clone(rs.Teams())
	var replaced []string
	for i, t := range teams {
		var others []string
		for _, tg := range t.Targets {
			if tg.Type != targetspec.NATS {
				others = append(others, tg.String()) // never a credential
			}
		}
		if len(others) == 0 {
			continue
		}
		teams[i].Targets = []targetspec.Spec{{Type: targetspec.NATS}}
		replaced = append(replaced, fmt.Sprintf("team %s: %s replaced by the team's NATS queue", t.Name, strings.Join(others, ", ")))
	}
	if len(replaced) == 0 {
		return rs, nil
	}
	return natsOnlyRules{Rules: rs, teams: teams}, replaced
}

// benchTopic is one kind of customer message in two languages.
type benchTopic struct {
	weight   int
	subjects [2][]string // fi, en
	lines    [2][]string // fi, en: the first sentence says what it is about
}

var benchFiller = [2][]string{
	{"Asiakasnumeroni on %d.", "Tilausnumero on %d.", "Kiitos etukäteen nopeasta vastauksesta.", "Olen ollut asiakkaananne jo monta vuotta.",
		"Voitte soittaa minulle iltapäivällä.", "Liitin kuvakaappauksen viestiin.", "Terveisin, Aino Virtanen", "Odotan vastaustanne."},
	{"My customer number is %d.", "The order number is %d.", "Thanks in advance for a quick reply.", "I have been your customer for years.",
		"You can call me in the afternoon.", "I attached a screenshot.", "Best regards, Emma Smith", "Looking forward to your answer."},
}

// benchTopics: billing, logistics, product, general questions (no route
// matches: the default team).
var benchTopics = []benchTopic{
	{weight: 35,
		subjects: [2][]string{{"Lasku", "Veloitus", "Hyvityspyyntö"}, {"Invoice", "Double charge", "Refund"}},
		lines: [2][]string{
			{"Hei, minulta on veloitettu kahdesti sama kuukausimaksu.", "Eräpäivä on mennyt, vaikka maksu lähti tililtäni ajallaan.",
				"Voisitteko tarkistaa laskutuksen? Summa on isompi kuin sopimuksessa.", "Haluaisin hyvityksen, koska palvelu ei ollut käytössä koko kuukautta.",
				"Sain maksumuistutuksen, vaikka maksoin laskun tilisiirrolla.", "Sähkölaskussani on väärä osoite."},
			{"Hi, I was charged twice for the same order this month.", "My invoice shows the wrong amount, could you check the billing?",
				"I paid by card but a payment reminder still arrived.", "Please refund the extra charge on my last bill.",
				"The direct debit failed although there is money on my account.", "Why is the due date earlier than before?"},
		}},
	{weight: 30,
		subjects: [2][]string{{"Paketti", "Toimitus myöhässä", "Seurantakoodi"}, {"Parcel", "Late delivery", "Tracking"}},
		lines: [2][]string{
			{"Pakettini ei ole vieläkään tullut, vaikka seuranta näyttää toimitetulta.", "Lähetys on ollut noutopisteessä viikon, enkä saanut ilmoitusta.",
				"Toimitus on myöhässä jo kolme päivää.", "Posti sanoo, että paketti on kadonnut matkalla.",
				"Seurantakoodi ei toimi kuljetusyhtiön sivulla.", "Pakettiautomaatti oli täynnä, mihin lähetykseni vietiin?"},
			{"My parcel has not arrived and the tracking page has not updated since Monday.", "The courier left the package at the wrong pick-up point.",
				"Shipping was supposed to take two days, the delivery is now a week late.", "The shipment is marked delivered but I never got it.",
				"Can I change the delivery address of my package?", "The tracking number you sent does not work."},
		}},
	{weight: 25,
		subjects: [2][]string{{"Vika", "Sovellus kaatuu", "Kehitysehdotus"}, {"Fault", "App crashes", "Feature request"}},
		lines: [2][]string{
			{"Sovellus kaatuu aina, kun yritän kirjautua sisään.", "Laite lakkasi toimimasta päivityksen jälkeen ja näyttää virheilmoitusta.",
				"Toivoisin, että sovellukseen tulisi tumma tila.", "Latausjohto on viallinen, liitin on rikki.",
				"Kamera ei toimi videopuhelussa.", "Olisi kiva, jos raportit saisi tallennettua taulukkona."},
			{"The app keeps crashing after the latest update, it is not working at all.", "The device stopped working and shows an error message on startup.",
				"It would be nice to export reports as CSV, please add it.", "The charger is faulty, the connector is broken.",
				"Login fails with an unknown error, looks like a bug.", "The screen flickers, I think it is a defect."},
		}},
	{weight: 10,
		subjects: [2][]string{{"Kysymys", "Aukioloajat"}, {"Question", "Opening hours"}},
		lines: [2][]string{
			{"Mitkä ovat asiakaspalvelun aukioloajat juhannuksena?", "Miten voin vaihtaa sähköpostiosoitteeni omiin tietoihini?",
				"Onko teillä myymälää Tampereella?", "Kenelle voin antaa palautetta asiakaspalvelusta?"},
			{"What are your opening hours during the holidays?", "How do I change the email address in my profile?",
				"Do you have a store in Tampere?", "Who can I talk to about your customer service?"},
		}},
}

// benchEnvelopes generates n envelopes deterministically: threads of up to
// three messages on one channel, topic and language; texts of about size
// bytes. received_at is stamped when each is published.
func benchEnvelopes(n, size int) []*message.Envelope {
	rng := rand.New(rand.NewPCG(20240601, 7))
	totalWeight := 0
	for _, t := range benchTopics {
		totalWeight += t.weight
	}
	base := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	envs := make([]*message.Envelope, 0, n)
	var (
		topic   *benchTopic
		lang    int
		channel string
		thread  string
	)
	for i := range n {
		if i%3 == 0 {
			w := rng.IntN(totalWeight)
			for j := range benchTopics {
				if w < benchTopics[j].weight {
					topic = &benchTopics[j]
					break
				}
				w -= benchTopics[j].weight
			}
			lang = rng.IntN(2)
			channel = [...]string{"email", "email", "web", "facebook", "facebook", "x"}[rng.IntN(6)]
			thread = fmt.Sprintf("thread-%d", i/3)
		}
		var text strings.Builder
		text.WriteString(topic.lines[lang][rng.IntN(len(topic.lines[lang]))])
		for text.Len() < size {
			text.WriteByte(' ')
			if rng.IntN(2) == 0 {
				text.WriteString(topic.lines[lang][rng.IntN(len(topic.lines[lang]))])
				continue
			}
			f := benchFiller[lang][rng.IntN(len(benchFiller[lang]))]
			if strings.Contains(f, "%d") {
				f = fmt.Sprintf(f, 100000+rng.IntN(900000))
			}
			text.WriteString(f)
		}
		sourceID := fmt.Sprintf("bench-%d", i)
		env := &message.Envelope{
			Version:   message.SchemaVersion,
			ID:        message.MakeID(channel, sourceID),
			Channel:   channel,
			SourceID:  sourceID,
			Text:      text.String(),
			CreatedAt: base.Add(time.Duration(i) * time.Second),
		}
		customer := rng.IntN(5000)
		switch channel {
		case "email":
			env.Kind, env.ThreadID = message.KindEmail, thread
			env.Subject = topic.subjects[lang][rng.IntN(len(topic.subjects[lang]))]
			env.Author = message.Author{Name: fmt.Sprintf("Customer %d", customer), Email: fmt.Sprintf("customer%d@example.com", customer)}
		case "web":
			env.Kind = message.KindWeb
			env.Author = message.Author{Email: fmt.Sprintf("customer%d@example.com", customer)}
		case "facebook":
			env.Kind, env.ThreadID = message.KindComment, thread
			env.Author = message.Author{ID: fmt.Sprint(1000000 + customer), Name: fmt.Sprintf("Customer %d", customer)}
			env.Metadata = map[string]string{"page_id": "100200300", "object": "comment"}
		case "x":
			env.Kind, env.ThreadID = message.KindMention, thread
			env.Author = message.Author{ID: fmt.Sprint(2000000 + customer), Handle: fmt.Sprintf("customer%d", customer)}
			env.Lang = [...]string{"fi", "en"}[lang]
		}
		envs = append(envs, env)
	}
	return envs
}

// printBench writes rep for people.
func printBench(w io.Writer, rep *benchReport) {
	names := make([]string, 0, len(rep.Teams))
	for t := range rep.Teams {
		names = append(names, t)
	}
	sort.Strings(names)
	per := make([]string, 0, len(names))
	for _, t := range names {
		per = append(per, fmt.Sprintf("%s %d", t, rep.Teams[t]))
	}
	fmt.Fprintf(w, "switchboard bench: %d messages (~%d B text), %d router workers, rules %s (version %s)\n",
		rep.Messages, rep.AvgTextBytes, rep.Workers, rep.RulesFile, rep.RulesVersion)
	for _, r := range rep.ReplacedTargets {
		fmt.Fprintf(w, "  note:          %s\n", r)
	}
	fmt.Fprintf(w, "  routed:        %d messages, %d team copies (%s)\n", rep.Routed, rep.TeamCopies, strings.Join(per, ", "))
	fmt.Fprintf(w, "  noise:         %d\n", rep.Noise)
	fmt.Fprintf(w, "  dead-lettered: %d\n", rep.DeadLettered)
	fmt.Fprintf(w, "  wall time:     %.3f s (first publish to the router's last ack)\n", rep.WallSeconds)
	fmt.Fprintf(w, "  throughput:    %.0f msg/s\n", rep.Throughput)
	fmt.Fprintf(w, "  ingest→queue:  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n"+
		"                 (received_at to the team stream's timestamp; publishers run flat out, so this includes\n"+
		"                 waiting in the ingest stream whenever they outrun the router)\n",
		rep.Latency.P50, rep.Latency.P90, rep.Latency.P99, rep.Latency.Max)
	fmt.Fprintf(w, "  classify:      %.0f ns/op, %.2f allocs/op, %.0f B/op (rules.Classify alone, one goroutine)\n",
		rep.Classify.NsPerOp, rep.Classify.AllocsPerOp, rep.Classify.BytesPerOp)
	fmt.Fprintf(w, "  peak heap:     %.1f MiB (HeapAlloc sampled every 50 ms; includes the embedded NATS server)\n",
		float64(rep.PeakHeapBytes)/(1<<20))
}
