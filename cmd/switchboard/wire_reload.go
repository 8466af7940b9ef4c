package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard/switchboard/internal/opsauth"
)

// reloadControl is how a rules reload is asked for — SIGHUP and SIGUSR1,
// and POST /v1/rules/reload — and how the one who asked hears its outcome.
type reloadControl struct {
	// reload asks for a reload; force for a reload past the reload guard.
	reload, force chan struct{}

	mu      sync.Mutex
	waiters []chan reloadOutcome
}

// reloadOutcome is one reload attempt's outcome.
type reloadOutcome struct {
	OK      bool   `json:"ok"`
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

func newReloadControl() *reloadControl {
	return &reloadControl{reload: make(chan struct{}, 1), force: make(chan struct{}, 1)}
}

// ask queues a request (a burst while one is pending asks once).
func ask(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// signals turns SIGHUP into reload requests and SIGUSR1 into forced ones
// until ctx ends.
func (c *reloadControl) signals(ctx context.Context) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGHUP, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-sig:
				if s == syscall.SIGUSR1 {
					ask(c.force)
				} else {
					ask(c.reload)
				}
			}
		}
	}()
}

// done tells everyone waiting the outcome of the attempt that just ended.
func (c *reloadControl) done(ok bool, version string, err error) {
	out := reloadOutcome{OK: ok, Version: version}
	if err != nil {
		out.Error = err.Error()
	}
	c.mu.Lock()
	waiters := c.waiters
	c.waiters = nil
	c.mu.Unlock()
	for _, w := range waiters {
		w <- out
	}
}

// reloadWait bounds how long POST /v1/rules/reload waits for the outcome.
const reloadWait = 60 * time.Second

// handler serves POST /v1/rules/reload[?force=true]: it asks for a reload
// and answers with its outcome: 200 {"ok": true, "version": …} or 409
// {"ok": false, "error": …} (rejected or refused), 504 when none came.
func (c *reloadControl) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wait := make(chan reloadOutcome, 1)
		c.mu.Lock()
		c.waiters = append(c.waiters, wait)
		c.mu.Unlock()
		if force := r.URL.Query().Get("force"); force == "true" || force == "1" {
			ask(c.force)
		} else {
			ask(c.reload)
		}
		w.Header().Set("Content-Type", "application/json")
		t := time.NewTimer(reloadWait)
		defer t.Stop()
		select {
		case out := <-wait:
			code := http.StatusOK
			if !out.OK {
				code = http.StatusConflict
			}
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(out)
		case <-t.C:
			w.WriteHeader(http.StatusGatewayTimeout)
			_ = json.NewEncoder(w).Encode(reloadOutcome{Error: "no reload outcome within a minute; see the daemon's log"})
		case <-r.Context().Done():
		}
	})
}

// mountReload serves POST /v1/rules/reload (admin ops token).
func (d *daemon) mountReload() {
	d.mux.Handle("POST /v1/rules/reload", d.ops.API(opsauth.RoleAdmin, d.reloadCtl.handler()))
}
