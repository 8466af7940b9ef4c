package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testwait"
)

// A truncated rules file is refused by the reload guard, also when asked
// with rules reload; rules reload -force puts it in use.
func TestRulesReloadCommand(t *testing.T) {
	cfg, cfgPath := testConfig(t)
	rulesPath := filepath.Join(filepath.Dir(cfgPath), "rules.yaml")
	results := make(chan bool, 8)
	d, _ := startDaemon(t, cfg, func(d *daemon) {
		d.rulesResult = func(ok bool, _ string, _ error) { results <- ok }
	})
	before := d.live.Current().Version()
	// Truncated after its teams: valid, but it drops every route.
	cut := testRules[:strings.Index(testRules, "routes:")]
	if err := os.WriteFile(rulesPath+".tmp", []byte(cut), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(rulesPath+".tmp", rulesPath); err != nil {
		t.Fatal(err)
	}
	if ok := testwait.Receive(t, 10*time.Second, "the watcher's reload", results); ok {
		t.Fatal("a truncated rules file was hot-reloaded")
	}
	code, out, errs := runCLI(rulesReload, "-config", cfgPath)
	if code != 1 || !strings.Contains(errs, "routes") {
		t.Fatalf("rules reload of a truncated file: %d %q %q, want it refused", code, out, errs)
	}
	if d.live.Current().Version() != before {
		t.Fatal("the refused file is in use")
	}
	code, out, errs = runCLI(rulesReload, "-config", cfgPath, "-force")
	if code != 0 || !strings.Contains(out, "rules reloaded") {
		t.Fatalf("rules reload -force: %d %q %q", code, out, errs)
	}
	if d.live.Current().Version() == before {
		t.Fatal("the forced file is not in use")
	}
}
