package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Live holds the rules in use. The router classifies through it while Watch
// swaps in new versions; an item is classified by one version from start to
// end. Safe for concurrent use.
type Live struct {
	cur atomic.Pointer[Rules]
}

// NewLive returns a Live holding r.
func NewLive(r *Rules) *Live {
	l := &Live{}
	l.cur.Store(r)
	return l
}

// Current returns the rules in use.
func (l *Live) Current() *Rules { return l.cur.Load() }

// Classify decides with the rules in use.
func (l *Live) Classify(env *message.Envelope) Decision { return l.Current().Classify(env) }

// Swap puts r in use; a nil r is ignored.
func (l *Live) Swap(r *Rules) {
	if r != nil {
		l.cur.Store(r)
	}
}

// watchDebounce is how long the directory must be quiet after a change
// before the file is read: editors and kubelet write in several steps.
const watchDebounce = 200 * time.Millisecond

// Watch keeps live in step with the rules file at path until ctx ends, then
// returns nil. It returns an error only when it cannot start watching.
//
// It watches the file's directory, not the file: editors replace the file
// (write a new one, rename it over) and Kubernetes swaps a ConfigMap's files
// through a "..data" symlink, and a watch on the file itself would see
// neither. After a change (and a quiet period) the file is read; if its
// content differs from what was last seen it is parsed, and a valid file is
// swapped in atomically and logged with its version. An invalid file is
// logged with every FILE:LINE:COL problem and the rules in use keep running.
// A valid file that would take away what the running rules route to (see
// GuardReload: a truncated file, removed teams still referenced) is refused
// the same way unless the reload is forced. Each value received from
// reload (the daemon sends one on SIGHUP) reloads the file even if it looks
// unchanged; each value from force does too, and overrides the guard.
//
// See WatchOptions for the reload and force channels, the check, the teams
// in use and the result hook.
func Watch(ctx context.Context, path string, live *Live, o WatchOptions) error {
	log, onResult, reload, force := o.Log, o.OnResult, o.Reload, o.Force
	if log == nil {
		log = zap.NewNop()
	}
	if onResult == nil {
		onResult = func(bool, string, error) {}
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching rules file %s: %w", path, err)
	}
	defer w.Close()
	rw := &rulesWatcher{ctx: ctx, path: path, live: live, log: log.With(zap.String("file", path)), onResult: onResult, check: o.Check, inUse: o.TeamsInUse,
		corrections: o.Corrections, w: w}
	dir := filepath.Dir(path)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watching %s, the directory of rules file %s: %w", dir, path, err)
	}
	rw.watchTarget()
	rw.watchExamples()
	rw.seen = live.Current().Version()

	var quiet *time.Timer
	var quietC <-chan time.Time
	defer func() {
		if quiet != nil {
			quiet.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("rules file watcher closed")
			}
			if rw.examplesEvent(ev) {
				rw.examplesChanged = true
			} else if !rw.relevant(ev) {
				continue
			}
			if quiet == nil {
				quiet = time.NewTimer(watchDebounce)
			} else {
				quiet.Reset(watchDebounce)
			}
			quietC = quiet.C
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("rules file watcher closed")
			}
			log.Warn("watching the rules file's directory reported an error; SIGHUP still reloads", zap.String("file", path), zap.Error(err))
		case <-quietC:
			quietC = nil
			rw.reload(false, false)
		case _, ok := <-reload:
			if !ok {
				reload = nil
				continue
			}
			rw.reload(true, false)
		case _, ok := <-force:
			if !ok {
				force = nil
				continue
			}
			rw.reload(true, true)
		}
	}
}

// WatchOptions tunes Watch; every field may be left zero.
type WatchOptions struct {
	// Reload forces a reload on every value (the daemon sends one on SIGHUP).
	Reload <-chan struct{}
	// Log receives the outcome of every reload.
	Log *zap.Logger
	// Check vets valid new rules before they go live, for what the rules
	// package cannot know (the router checks it can build every team's
	// delivery targets). An error rejects the file like a parse error.
	Check func(*Rules) error
	// OnResult is called after every reload attempt: ok, the version now in
	// use (when ok) or of the rejected content, and the error. A reload the
	// guard refused has a *ReloadRefusedError saying why.
	OnResult func(ok bool, version string, err error)
	// Force, on every value, reloads the file and puts it in use even when
	// the reload guard objects (GuardReload: routes dropping by more than
	// half, no routes, removed teams still referenced). Invalid rules and
	// rules Check refuses are still rejected. The daemon maps
	// "switchboard rules reload --force" and SIGUSR1 to it.
	Force <-chan struct{}
	// TeamsInUse says which teams queued or retrying items still
	// reference, so that a reload removing one of them is refused. Nil, or
	// an error, means nobody can tell: then every removed team counts as
	// referenced.
	TeamsInUse func(ctx context.Context) ([]string, error)
	// Corrections returns the operators' corrections (the daemon reads
	// them from their stream), for rules that learn from them: every
	// reload asks, and a reload of unchanged rules trains the model again
	// when they (or the examples file) changed. An error is logged and the
	// reload goes on without them (a reload of unchanged rules keeps the
	// model in use). Nil: no corrections.
	Corrections func(ctx context.Context) ([]Correction, error)
}

type rulesWatcher struct {
	ctx      context.Context
	inUse    func(context.Context) ([]string, error)
	path     string
	live     *Live
	log      *zap.Logger
	onResult func(bool, string, error)
	check    func(*Rules) error
	w        *fsnotify.Watcher
	// corrections reads the operators' corrections (nil: none).
	corrections func(context.Context) ([]Correction, error)
	// examples is the examples file of the rules in use, watched when
	// they have a model; examplesDir is its directory when that is not
	// the rules file's own (watched too); examplesChanged says an event
	// touched it since the last reload.
	examples, examplesDir string
	examplesChanged       bool
	// seen is the version (content hash) last read, valid or not.
	seen string
	// target is the directory of the file a symlinked path points to, when
	// it lies outside the path's own directory (it is watched too).
	target string
}

// relevant reports whether ev may have changed the file's content.
func (rw *rulesWatcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	base := filepath.Base(ev.Name)
	return base == filepath.Base(rw.path) || strings.HasPrefix(base, "..") ||
		(rw.target != "" && filepath.Dir(ev.Name) == rw.target)
}

// watchTarget also watches the directory of the file a symlink points to,
// when that is elsewhere.
func (rw *rulesWatcher) watchTarget() {
	resolved, err := filepath.EvalSymlinks(rw.path)
	if err != nil {
		return
	}
	dir, own := filepath.Dir(resolved), filepath.Dir(rw.path)
	if absOwn, err := filepath.Abs(own); err == nil {
		own = absOwn
	}
	if absDir, err := filepath.Abs(dir); err == nil {
		dir = absDir
	}
	if dir == own || strings.HasPrefix(dir, own+string(filepath.Separator)) || dir == rw.target {
		return
	}
	if err := rw.w.Add(dir); err != nil {
		rw.log.Warn("cannot watch the directory the rules file links to; edits there need SIGHUP", zap.String("dir", dir), zap.Error(err))
		return
	}
	rw.target = dir
}

// reload reads the file and swaps in its rules if they are new, valid and
// pass the reload guard. again reloads content already seen (SIGHUP);
// override puts the rules in use whatever the guard says (a forced reload).
func (rw *rulesWatcher) reload(again, override bool) {
	cur := rw.live.Current()
	data, err := yamlfile.ReadFile(rw.path, MaxFileBytes)
	if err != nil {
		rw.log.Error("cannot read the rules file; the rules in use keep running",
			zap.String("running_version", cur.Version()), zap.Error(err))
		rw.onResult(false, "", fmt.Errorf("reading rules: %w", err))
		return
	}
	version := contentVersion(data)
	retrain := rw.examplesChanged
	rw.examplesChanged = false
	if version == rw.seen && !again && !retrain {
		return
	}
	rw.seen = version
	rw.watchTarget()
	corrections, readable := rw.readCorrections()
	if version == cur.Version() && cur.LearnsFromCorrections() && !readable {
		// Training again without the corrections would forget them until
		// the next reload: keep the model in use.
		rw.log.Info("rules file unchanged; the model in use is kept until the corrections can be read", zap.String("version", version))
		rw.onResult(true, version, nil)
		return
	}
	if version == cur.Version() && !cur.trainingChanged(corrections) {
		if !retrain || again {
			rw.log.Info("rules file unchanged", zap.String("version", version))
			rw.onResult(true, version, nil)
		}
		return
	}
	r, err := parse(rw.path, data, parseOptions{stems: cur.stems, corrections: corrections})
	if err == nil && rw.check != nil {
		err = rw.check(r)
	}
	if err != nil {
		rw.log.Error("rules file rejected; the rules in use keep running",
			zap.String("rejected_version", version), zap.String("running_version", cur.Version()),
			zap.Strings("problems", problemLines(err)))
		rw.onResult(false, version, err)
		return
	}
	if reasons := GuardReload(cur, r, rw.teamsInUse()); len(reasons) > 0 {
		if !override {
			rw.log.Error("rules file refused: it would take away what the running rules route to; the rules in use keep running (force the reload if it is intended)",
				zap.String("refused_version", version), zap.String("running_version", cur.Version()), zap.Strings("reasons", reasons))
			rw.onResult(false, version, &ReloadRefusedError{Version: version, Reasons: reasons})
			return
		}
		rw.log.Warn("rules reload forced despite the reload guard", zap.String("version", version), zap.Strings("reasons", reasons))
	}
	rw.live.Swap(r)
	rw.watchExamples()
	fields := []zap.Field{zap.String("version", r.Version()), zap.String("previous_version", cur.Version()),
		zap.Int("routes", len(r.routes)), zap.Int("teams", len(r.teams)), zap.Strings("warnings", r.Warnings())}
	if r.model != nil {
		st := r.model.stats
		fields = append(fields, zap.String("model_version", r.model.version), zap.String("previous_model_version", cur.ModelVersion()),
			zap.Int("model_examples", st.Examples), zap.Int("model_corrections", st.Corrections), zap.Duration("model_training", st.Took))
	}
	rw.log.Info("rules reloaded", fields...)
	rw.onResult(true, r.Version(), nil)
}

// readCorrections asks the daemon for the corrections, and reports
// whether it could: on an error, new rules learn without them.
func (rw *rulesWatcher) readCorrections() ([]Correction, bool) {
	if rw.corrections == nil {
		return nil, true
	}
	cs, err := rw.corrections(rw.ctx)
	if err != nil {
		rw.log.Warn("cannot read the operators' corrections; a model trained now learns without them", zap.Error(err))
		return nil, false
	}
	return cs, true
}

// watchExamples follows the examples file of the rules in use when they
// have a model: an edit of it trains the model again. Its directory is
// watched too when it is not the rules file's.
func (rw *rulesWatcher) watchExamples() {
	cur := rw.live.Current()
	rw.examples = ""
	if cur.model == nil {
		return
	}
	rw.examples = cur.examples
	dir := filepath.Dir(cur.examples)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	own := filepath.Dir(rw.path)
	if abs, err := filepath.Abs(own); err == nil {
		own = abs
	}
	if dir == own || dir == rw.examplesDir || dir == rw.target {
		return
	}
	if err := rw.w.Add(dir); err != nil {
		rw.log.Warn("cannot watch the directory of the examples file; edits there need SIGHUP", zap.String("dir", dir), zap.Error(err))
		return
	}
	rw.examplesDir = dir
}

// examplesEvent reports whether ev may have changed the examples file.
func (rw *rulesWatcher) examplesEvent(ev fsnotify.Event) bool {
	if rw.examples == "" || ev.Op == fsnotify.Chmod {
		return false
	}
	return filepath.Base(ev.Name) == filepath.Base(rw.examples) &&
		sameDir(filepath.Dir(ev.Name), filepath.Dir(rw.examples))
}

// sameDir reports whether two directory paths name the same directory.
func sameDir(a, b string) bool {
	if x, err := filepath.Abs(a); err == nil {
		a = x
	}
	if x, err := filepath.Abs(b); err == nil {
		b = x
	}
	return a == b
}

// teamsInUse asks the daemon which teams items still reference, for the
// guard; nil when it cannot tell.
func (rw *rulesWatcher) teamsInUse() func(string) bool {
	if rw.inUse == nil {
		return nil
	}
	teams, err := rw.inUse(rw.ctx)
	if err != nil {
		rw.log.Warn("cannot tell which teams queued items reference; every removed team counts as referenced", zap.Error(err))
		return nil
	}
	set := make(map[string]bool, len(teams))
	for _, t := range teams {
		set[t] = true
	}
	return func(team string) bool { return set[team] }
}

// FileVersion is the version (Rules.Version) of rules with this content,
// without parsing them (which trains their model).
func FileVersion(data []byte) string { return contentVersion(data) }

// contentVersion is the rules version of a file's content.
func contentVersion(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// problemLines splits a parse error into its FILE:LINE:COL lines.
func problemLines(err error) []string {
	var list yamlfile.List
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}
