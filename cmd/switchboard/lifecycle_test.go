package main

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// A start that fails at any step stops exactly the components started
// before it, in the reverse order, and leaves nothing behind: afterwards a
// daemon starts on the same data directory and HTTP port and routes.
func TestDaemonStartFailsCleanlyAtEachStep(t *testing.T) {
	cfg, _ := testConfig(t)
	var names []string
	for _, c := range (&daemon{}).components() {
		names = append(names, c.Name)
	}
	componentsIn := func(logs *observer.ObservedLogs, msg string) []string {
		var out []string
		for _, e := range logs.FilterMessage(msg).All() {
			out = append(out, e.ContextMap()["component"].(string))
		}
		return out
	}
	for i, step := range names {
		t.Run(step, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			d := newDaemon(cfg, zap.New(core))
			d.inject = func(name string) error {
				if name == step {
					return errors.New("injected")
				}
				return nil
			}
			d.ready = make(chan struct{})
			err := d.run(context.Background())
			if err == nil || err.Error() != "starting "+step+": injected" {
				t.Fatalf("run returned %v", err)
			}
			select {
			case <-d.ready:
				t.Fatal("ready after a failed start")
			default:
			}
			if got := componentsIn(logs, "component started"); !reflect.DeepEqual(got, names[:i]) && !(i == 0 && got == nil) {
				t.Fatalf("started %q, want %q", got, names[:i])
			}
			want := slices.Clone(names[:i])
			slices.Reverse(want)
			if got := componentsIn(logs, "component stopped"); !reflect.DeepEqual(got, want) && !(i == 0 && got == nil) {
				t.Fatalf("stopped %q, want %q", got, want)
			}
		})
	}
	d, _ := startDaemon(t, cfg)
	postMessage(t, d.httpAddr, `{"text":"lasku"}`)
	if got := teamItems(t, cfg, "billing", 1); len(got) != 1 {
		t.Fatalf("billing got %d items after the failed starts", len(got))
	}
}
