package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/internal/testwait"
)

// journal records what the components did, in order.
type journal struct {
	mu     sync.Mutex
	events []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, fmt.Sprintf(format, args...))
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.events...)
}

// components are a store (Start, Stop), a worker (Start, Run) that uses
// the store until its ctx ends, and a server (Run that ignores ctx, ended
// by Stop).
func components(j *journal) []Component {
	var storeOpen bool
	var mu sync.Mutex
	serverStop := make(chan struct{})
	return []Component{
		{Name: "store",
			Start: func(context.Context) error {
				mu.Lock()
				storeOpen = true
				mu.Unlock()
				j.add("start store")
				return nil
			},
			Stop: func(context.Context) error {
				mu.Lock()
				storeOpen = false
				mu.Unlock()
				j.add("stop store")
				return nil
			}},
		{Name: "worker",
			Start: func(context.Context) error { j.add("start worker"); return nil },
			Run: func(ctx context.Context) error {
				<-ctx.Done()
				mu.Lock()
				open := storeOpen
				mu.Unlock()
				j.add("worker done, store open %v", open)
				return nil
			}},
		{Name: "server",
			Run: func(context.Context) error { <-serverStop; j.add("server done"); return nil },
			Stop: func(context.Context) error {
				j.add("stop server")
				close(serverStop)
				return nil
			}},
	}
}

func TestStartInOrderStopInReverse(t *testing.T) {
	var j journal
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{StopTimeout: 5 * time.Second, Ready: func() { close(ready) }}, components(&j)...)
	}()
	testwait.Closed(t, 5*time.Second, "every component to start", ready)
	if got, want := j.get(), []string{"start store", "start worker"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("started %q, want %q", got, want)
	}
	cancel()
	if err := testwait.Receive(t, 5*time.Second, "Run to return", done); err != nil {
		t.Fatalf("a stop by ctx returned %v", err)
	}
	want := []string{"start store", "start worker", "stop server", "server done", "worker done, store open true", "stop store"}
	if got := j.get(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n%q\nwant\n%q", got, want)
	}
}

// A failure injected at each step stops exactly what started before it,
// in reverse order, and names the step.
func TestInjectedFailureAtEachStep(t *testing.T) {
	want := map[string][]string{
		"store":  {},
		"worker": {"start store", "stop store"},
		"server": {"start store", "start worker", "worker done, store open true", "stop store"},
	}
	for _, step := range []string{"store", "worker", "server"} {
		t.Run(step, func(t *testing.T) {
			var j journal
			core, logs := observer.New(zap.DebugLevel)
			err := Run(context.Background(), Options{
				Log: zap.New(core), StopTimeout: 5 * time.Second,
				Ready:  func() { t.Error("ready after a failed start") },
				Inject: func(name string) error { return map[bool]error{true: errors.New("injected")}[name == step] },
			}, components(&j)...)
			if err == nil || err.Error() != "starting "+step+": injected" {
				t.Fatalf("Run returned %v", err)
			}
			if got := j.get(); !reflect.DeepEqual(append([]string{}, got...), want[step]) {
				t.Fatalf("events %q, want %q", got, want[step])
			}
			if n := logs.FilterMessage("component failed to start; stopping what started").FilterField(zap.String("component", step)).Len(); n != 1 {
				t.Fatalf("the failure is logged %d times with its component", n)
			}
		})
	}
}

func TestStartErrorAndEarlyRunEnd(t *testing.T) {
	var j journal
	cs := components(&j)
	cs = append(cs[:2], Component{Name: "flaky", Run: func(context.Context) error { return errors.New("lost connection") }}, cs[2])
	err := Run(context.Background(), Options{StopTimeout: 5 * time.Second}, cs...)
	if err == nil || err.Error() != "flaky stopped: lost connection" {
		t.Fatalf("Run returned %v", err)
	}
	if got := j.get(); got[len(got)-1] != "stop store" || !strings.Contains(strings.Join(got, ","), "worker done, store open true") {
		t.Fatalf("events %q", got)
	}

	// A Run that returns nil before shutdown stops the program too.
	err = Run(context.Background(), Options{StopTimeout: time.Second}, Component{Name: "quitter", Run: func(context.Context) error { return nil }})
	if err == nil || err.Error() != "quitter stopped: it returned before shutdown" {
		t.Fatalf("Run returned %v", err)
	}

	// A failing Start must release what it got; the ones before stop.
	j = journal{}
	cs = components(&j)
	cs = append(cs[:1], Component{Name: "broken", Start: func(context.Context) error { return errors.New("no disk") }})
	if err := Run(context.Background(), Options{StopTimeout: time.Second}, cs...); err == nil || err.Error() != "starting broken: no disk" {
		t.Fatalf("Run returned %v", err)
	}
	if got := j.get(); !reflect.DeepEqual(got, []string{"start store", "stop store"}) {
		t.Fatalf("events %q", got)
	}
}

// A stop requested while a component starts ends its Start's context, and
// the program stops cleanly: no error.
func TestStopWhileStarting(t *testing.T) {
	var j journal
	ctx, cancel := context.WithCancel(context.Background())
	cs := components(&j)
	cs = append(cs[:1], Component{Name: "slow", Start: func(ctx context.Context) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}}, cs[1])
	if err := Run(ctx, Options{StopTimeout: time.Second, Ready: func() { t.Error("ready") }}, cs...); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if got := j.get(); !reflect.DeepEqual(got, []string{"start store", "stop store"}) {
		t.Fatalf("events %q", got)
	}
}

// A component that does not stop within the timeout is left behind with a
// warning, and the ones before it still stop.
func TestStopTimeout(t *testing.T) {
	var j journal
	stuck := make(chan struct{})
	defer close(stuck)
	cs := []Component{
		components(&j)[0],
		{Name: "stuck", Run: func(context.Context) error { <-stuck; return nil }},
	}
	ctx, cancel := context.WithCancel(context.Background())
	core, logs := observer.New(zap.WarnLevel)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Log: zap.New(core), StopTimeout: 50 * time.Millisecond, Ready: cancel}, cs...)
	}()
	if err := testwait.Receive(t, 5*time.Second, "Run to give up on the stuck component", done); err != nil {
		t.Fatal(err)
	}
	if logs.FilterField(zap.String("component", "stuck")).Len() != 1 {
		t.Fatalf("no warning about the stuck component: %v", logs.All())
	}
	if got := j.get(); got[len(got)-1] != "stop store" {
		t.Fatalf("events %q", got)
	}
}
