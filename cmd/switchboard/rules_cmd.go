package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/rules"
	"github.com/switchboard/switchboard/rules/backtest"
	"github.com/switchboard/switchboard/rules/examples"
)

// rulesGroup is "switchboard rules".
func rulesGroup() *cli.Group {
	return &cli.Group{
		Name:  "switchboard rules",
		About: "Work with routing rules: check a file, see where a message would go and why, replay stored messages through a new file, measure the model, see what operators corrected.",
		Commands: []cli.Command{
			{Name: "check", Args: "[-against OLD.yaml] [FILE]", Summary: "validate and lint a rules file (default rules.yaml) and the examples file it names",
				Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
					return rulesCheck(args, stdout, stderr)
				}},
			{Name: "test", Args: "[flags] TEXT | -examples[=FILE]", Summary: "show where a message would go and why, or run the labelled examples and report precision, recall and every failure",
				Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
					return rulesTest(args, stdout, stderr)
				}},
			{Name: "backtest", Args: "-rules NEW.yaml [-since 7d | -last N]", Summary: "replay stored messages through the live and the new rules (and their models) and show what would change", Run: rulesBacktest},
			{Name: "evaluate", Args: "[-rules FILE] [-examples FILE] [-folds 5]", Summary: "cross-validate the rules and their model on the labelled examples: accuracy with and without the model",
				Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
					return rulesEvaluate(args, stdout, stderr)
				}},
			{Name: "reload", Args: "[-force]", Summary: "ask the running daemon to read the rules file again (-force: past the reload guard)", Run: rulesReload},
			{Name: "report", Args: "[-since 30d] [-json]", Summary: "operators' corrections per route and per team, the worst first", Run: rulesReport},
		},
	}
}

// rulesCheck implements "rules check [-against OLD.yaml] [FILE]".
func rulesCheck(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard rules check", `usage: switchboard rules check [-against OLD.yaml] [FILE]

Validate and lint a rules file (default rules.yaml) and the examples file it
names. Exit 0 when valid; otherwise one line per problem,
FILE:LINE:COL: message, and exit 1. Warnings are printed and do not fail
the check. -against warns about what FILE would take away from OLD.yaml
(the rules in use): most routes, all routes, teams.`, stdout, stderr)
	against := fs.String("against", "", "the rules file in use: warn about what FILE would take away from it (routes, teams)")
	path, code, ok := parseFileArg(fs, args, "rules.yaml")
	if !ok {
		return code
	}
	r, err := rules.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, w := range r.Warnings() {
		fmt.Fprintln(stderr, w)
	}
	if *against != "" {
		old, err := rules.Load(*against)
		if err != nil {
			return fs.Failf("the file to compare against does not load:\n%v", err)
		}
		for _, reason := range rules.GuardReload(old, r, nil) {
			fmt.Fprintf(stderr, "%s: warning: compared with %s (the daemon refuses such a reload unless forced): %s\n", path, *against, reason)
		}
	}
	exNote := ""
	if exPath := r.ExamplesFile(); exPath != "" {
		set, err := examples.Load(exPath, examples.Teams(r))
		if err != nil {
			fmt.Fprintf(stderr, "%s: the examples file the rules name does not load:\n%v\n", path, err)
			return 1
		}
		exNote = fmt.Sprintf("; %d examples in %s: run them with rules test -examples", len(set.Examples), exPath)
	}
	if r.HasModel() {
		st := r.ModelStats()
		exNote += fmt.Sprintf("; model %s trained on %d examples and %d corrections in %s, min_confidence %g: rules evaluate measures it",
			r.ModelVersion(), st.Examples, st.Corrections, st.Took.Round(time.Millisecond), r.MinConfidence())
	}
	fmt.Fprintf(stdout, "%s: ok (version %s, %d routes, %d teams%s)\n", path, r.Version(), len(r.RouteIDs()), len(r.Teams()), exNote)
	return 0
}

// examplesFlag is -examples (the rules file's examples) or -examples=FILE.
type examplesFlag struct {
	set  bool
	file string
}

// String, Set and IsBoolFlag make examplesFlag a flag that may go without
// a value.
func (f *examplesFlag) String() string { return f.file }

func (f *examplesFlag) Set(v string) error {
	f.set = true
	if v != "true" {
		f.file = v
	}
	return nil
}

func (f *examplesFlag) IsBoolFlag() bool { return true }

// rulesTestExamples implements "rules test -examples[=FILE]": exit 0 when
// every example passes (or the accuracy reaches minAccuracy), 1 when not,
// 2 when the rules or the examples do not load.
func rulesTestExamples(rulesPath string, ex examplesFlag, minAccuracy float64, asJSON bool, stdout, stderr io.Writer) int {
	r, err := rules.Load(rulesPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	path := ex.file
	if path == "" {
		if path = r.ExamplesFile(); path == "" {
			fmt.Fprintf(stderr, "switchboard rules test: %s names no examples file: add examples: FILE to it, or give -examples=FILE\n", rulesPath)
			return 2
		}
	}
	set, err := examples.Load(path, examples.Teams(r))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	rep := examples.Run(r, set, nil)
	if asJSON {
		if code := printJSON(stdout, stderr, "switchboard rules test", rep); code != 0 {
			return code
		}
	} else {
		rep.WriteText(stdout)
	}
	if !rep.Pass(minAccuracy) {
		return 1
	}
	return 0
}

// metaFlag collects -meta KEY=VALUE.
type metaFlag map[string]string

// String and Set make metaFlag a flag.Value.
func (m metaFlag) String() string { return fmt.Sprint(map[string]string(m)) }

func (m metaFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("use KEY=VALUE")
	}
	m[k] = v
	return nil
}

// rulesTest implements "rules test".
func rulesTest(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard rules test", `usage: switchboard rules test [flags] TEXT
       switchboard rules test [flags] -message FILE.json
       switchboard rules test [-rules FILE] -examples[=FILE] [-min-accuracy F] [-json]

Show where a message would go and why: teams, topics, priority and the
trace of every route, with the words that matched.

With -examples, run labelled examples (the file the rules name under
examples:, or FILE) and report per-team precision and recall, a confusion
matrix and every failure with why. Exit 0 when all pass (or the accuracy is
at least -min-accuracy), 1 when not, 2 when a file does not load.`, stdout, stderr)
	rulesPath := fs.String("rules", "rules.yaml", "rules file")
	channel := fs.String("channel", "web", "channel: facebook, x, email, web")
	kind := fs.String("kind", "", "item kind (default: the channel's usual kind: comment, mention, email, web)")
	lang := fs.String("lang", "", "declared language (default: detected)")
	subject := fs.String("subject", "", "subject or title")
	authorEmail := fs.String("author-email", "", "author's email")
	authorName := fs.String("author-name", "", "author's name")
	authorHandle := fs.String("author-handle", "", "author's handle")
	thread := fs.String("thread", "new", "new, or reply (the item answers another)")
	msgFile := fs.String("message", "", "read the envelope from this JSON file (- for stdin) instead of TEXT")
	asJSON := fs.Bool("json", false, "print the decision and trace (or the examples' report) as JSON")
	meta := metaFlag{}
	fs.Var(meta, "meta", "metadata KEY=VALUE (repeatable)")
	var ex examplesFlag
	fs.Var(&ex, "examples", "run the labelled examples the rules file names (-examples), or FILE (-examples=FILE), and report")
	minAccuracy := fs.Float64("min-accuracy", 0, "with -examples: pass when at least this share of the examples (0 to 1) pass")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	if ex.set {
		switch {
		case len(pos) > 0 || *msgFile != "":
			return fs.Usagef("-examples runs an examples file, not TEXT or -message; to name the file write -examples=FILE")
		case *minAccuracy < 0 || *minAccuracy > 1:
			return fs.Usagef("-min-accuracy is a share from 0 to 1, like 0.95")
		}
		return rulesTestExamples(*rulesPath, ex, *minAccuracy, *asJSON, stdout, stderr)
	}
	var env message.Envelope
	switch {
	case *msgFile != "" && len(pos) > 0:
		return fs.Usagef("give TEXT or -message, not both")
	case *msgFile != "":
		if err := readEnvelope(*msgFile, &env); err != nil {
			return fs.Failf("%v", err)
		}
	case len(pos) == 0:
		return fs.Usagef("give the TEXT of a message, or -message FILE.json")
	default:
		env = message.Envelope{
			Version: message.SchemaVersion, Channel: *channel, Kind: message.Kind(*kind),
			Subject: *subject, Text: strings.Join(pos, " "), Lang: *lang,
			Author: message.Author{Email: *authorEmail, Name: *authorName, Handle: *authorHandle},
		}
		if env.Kind == "" {
			env.Kind = message.DefaultKind(env.Channel)
		}
		if len(meta) > 0 {
			env.Metadata = meta
		}
		switch *thread {
		case "new":
		case "reply":
			env.ParentID = "parent"
		default:
			return fs.Usagef("-thread %q: use new or reply", *thread)
		}
	}
	r, err := rules.Load(*rulesPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	d, tr := r.Explain(&env)
	if *asJSON {
		return printJSON(stdout, stderr, "switchboard rules test", struct {
			Decision rules.Decision `json:"decision"`
			Trace    rules.Trace    `json:"trace"`
		}{d, tr})
	}
	printDecision(stdout, *rulesPath, d, tr)
	return 0
}

func readEnvelope(path string, env *message.Envelope) error {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(os.Stdin, 16<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("reading message: %w", err)
	}
	if err := json.Unmarshal(data, env); err != nil {
		return fmt.Errorf("decoding message %s: %w", path, err)
	}
	if strings.TrimSpace(env.Text) == "" && strings.TrimSpace(env.Subject) == "" {
		return fmt.Errorf("message %s has no text or subject", path)
	}
	return nil
}

func orDash(list []string) string {
	if len(list) == 0 {
		return "-"
	}
	return strings.Join(list, ", ")
}

func printDecision(w io.Writer, file string, d rules.Decision, tr rules.Trace) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rules\t%s (version %s)\n", file, d.Version)
	fmt.Fprintf(tw, "lang\t%s (%s; words matched in %s stems)\n", tr.Lang, tr.LangSource, strings.Join(tr.StemLangs, " and "))
	if d.Noise {
		fmt.Fprintf(tw, "noise\tyes: kept in the ingest stream, delivered to no team\n")
	} else {
		fmt.Fprintf(tw, "teams\t%s\n", orDash(d.Teams))
	}
	fmt.Fprintf(tw, "topics\t%s\n", orDash(d.Topics))
	fmt.Fprintf(tw, "priority\t%s\n", d.Priority)
	fmt.Fprintf(tw, "tags\t%s\n", orDash(d.Tags))
	fmt.Fprintf(tw, "matched\t%s\n", orDash(d.Matched))
	switch {
	case d.ModelDecided:
		fmt.Fprintf(tw, "decided\tyes, by the model: no route named a team\n")
	case d.Decided:
		fmt.Fprintf(tw, "decided\tyes, by route %s\n", d.Route)
	default:
		fmt.Fprintf(tw, "decided\tno: no route names a team, so default_team has it (a reply follows what it answers)\n")
	}
	if d.Model.Len() > 0 {
		fmt.Fprintf(tw, "model\t%s\n", d.Model)
		if tr.Fallback != "" {
			fmt.Fprintf(tw, "\t%s\n", tr.Fallback)
		}
	}
	if d.OverrideThread {
		fmt.Fprintf(tw, "thread\tnot sticky: a deciding route says sticky: false\n")
	}
	tw.Flush()
	fmt.Fprintln(w, "\ntrace (✓ matched, ✗ did not match, - not tried; * decided):")
	for _, rt := range tr.Routes {
		indent := strings.Repeat("    ", rt.Depth)
		mark := "✗"
		switch {
		case rt.Skipped != "":
			mark = "-"
		case rt.Matched:
			mark = "✓"
		}
		decided := ""
		if rt.Decided {
			decided = " *"
		}
		fmt.Fprintf(w, "  %s%s %s (line %d)%s\n", indent, mark, rt.ID, rt.Line, decided)
		if rt.Skipped != "" {
			fmt.Fprintf(w, "  %s      %s\n", indent, rt.Skipped)
			continue
		}
		if len(rt.Conditions) == 0 {
			fmt.Fprintf(w, "  %s      (no conditions: matches everything)\n", indent)
		}
		for _, c := range rt.Conditions {
			ok := "✗"
			if c.OK {
				ok = "✓"
			}
			fmt.Fprintf(w, "  %s      %s %s: %s\n", indent, ok, c.Cond, c.Detail)
		}
	}
}

// rulesBacktest implements "rules backtest".
func rulesBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard rules backtest", `usage: switchboard rules backtest -rules NEW.yaml [-since 7d | -last N] [-config FILE] [-live FILE] [-examples N] [-json]

Replay messages stored in the ingest stream through the live rules
(router.rules_file of -config, or -live FILE) and NEW.yaml, and show how
many would change team, a from → to table and examples. Publishes
nothing; reads the daemon's NATS like tail and dead.`, stdout, stderr)
	newPath := fs.String("rules", "", "the new rules file to compare (required)")
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find NATS and the live rules)")
	livePath := fs.String("live", "", "the live rules file (default: router.rules_file of the configuration)")
	sinceText := fs.String("since", "7d", "replay messages ingested since this long ago (7d, 24h)")
	last := fs.Int("last", 0, "replay the last N messages instead of -since")
	examples := fs.Int("examples", 3, "examples shown per from → to change")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := fs.Parse(args)
	if err != nil {
		return cli.ExitCode(err)
	}
	sinceSet := false
	fs.Visit(func(f *flag.Flag) { sinceSet = sinceSet || f.Name == "since" })
	switch {
	case len(pos) > 0:
		return fs.Usagef("unexpected argument %q (the new rules file goes in -rules)", pos[0])
	case *newPath == "":
		return fs.Usagef("-rules NEW.yaml is required")
	case *last < 0 || *examples < 0:
		return fs.Usagef("-last and -examples must be 0 or more")
	case *last > 0 && sinceSet:
		return fs.Usagef("give -since or -last, not both")
	}
	since, err := yamlfile.ParseDuration(*sinceText)
	if err != nil || since <= 0 {
		return fs.Usagef("-since %q: use a duration like 24h or 7d", *sinceText)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *livePath == "" {
		*livePath = cfg.Router.RulesFile
	}
	live, err := rules.Load(*livePath)
	if err != nil {
		fmt.Fprintf(stderr, "switchboard rules backtest: the live rules do not load:\n%v\n", err)
		return 1
	}
	next, err := rules.Load(*newPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	nc, js, err := bus.Dial(ctx, cfg, "rules-backtest")
	if err != nil {
		return fs.Failf("%v", err)
	}
	defer nc.Close()
	// With the operators' corrections, as the daemon's models have them.
	if live, err = withCorrections(ctx, js, cfg, *livePath, live); err == nil {
		next, err = withCorrections(ctx, js, cfg, *newPath, next)
	}
	if err != nil {
		return fs.Failf("%v", err)
	}
	subjects := bus.NewSubjects(cfg.Streams)
	rep, err := backtest.Run(ctx, js, live, next, backtest.Options{
		Stream: subjects.IngestStream, Filter: subjects.AllIngest(),
		Since: since, Last: *last, Examples: *examples,
		Skipped: func(why string) { fmt.Fprintln(stderr, why) },
	})
	if err != nil {
		return fs.Failf("%v", err)
	}
	rep.LiveRules, rep.NewRules = *livePath, *newPath
	if *asJSON {
		return printJSON(stdout, stderr, "switchboard rules backtest", rep)
	}
	printBacktest(stdout, rep)
	return 0
}

func percent(n, of int) string {
	if of == 0 {
		return ""
	}
	return fmt.Sprintf("(%.1f%%)", 100*float64(n)/float64(of))
}

// modelNote describes a backtested rule set's model.
func modelNote(version string, decided int) string {
	if version == "" {
		return ""
	}
	return fmt.Sprintf(", model %s decided %d", version, decided)
}

// byModel says the model chose a backtested example's team.
func byModel(top string) string {
	if top == "" {
		return ""
	}
	return " (the model chose: " + top + ")"
}

func printBacktest(w io.Writer, rep *backtest.Report) {
	window := "since " + rep.Since
	if rep.Last > 0 {
		window = fmt.Sprintf("the last %d messages", rep.Last)
	}
	fmt.Fprintf(w, "backtest of %s, %s\n", rep.Stream, window)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "live rules\t%s (version %s%s)\n", rep.LiveRules, rep.LiveVersion, modelNote(rep.LiveModel, rep.LiveByModel))
	fmt.Fprintf(tw, "new rules\t%s (version %s%s)\n", rep.NewRules, rep.NewVersion, modelNote(rep.NewModel, rep.NewByModel))
	tw.Flush()
	fmt.Fprintf(w, "\n%d messages: %d would change team %s, %d keep their team", rep.Messages, rep.Changed, percent(rep.Changed, rep.Messages), rep.Unchanged+rep.Other)
	if rep.Other > 0 {
		fmt.Fprintf(w, " (%d of them with other topics, priority or tags)", rep.Other)
	}
	fmt.Fprintln(w)
	if rep.Unreadable > 0 {
		fmt.Fprintf(w, "%d unreadable messages skipped\n", rep.Unreadable)
	}
	if len(rep.Transitions) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "from\tto\tcount\n")
	for _, t := range rep.Transitions {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", t.From, t.To, t.Count)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nexamples")
	for _, t := range rep.Transitions {
		if len(t.Examples) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s → %s\n", t.From, t.To)
		for _, e := range t.Examples {
			fmt.Fprintf(w, "    %s  %q\n", e.ID, e.Text)
			fmt.Fprintf(w, "      live matched %s%s; new matched %s%s\n", orDash(e.LiveMatched), byModel(e.LiveModel), orDash(e.NewMatched), byModel(e.NewModel))
		}
	}
}
