package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/testwait"
)

// The console's service levels page shows what the response tracker
// measured: an item routed to billing and marked handled is one item, one
// response, on the page.
func TestServiceLevelsPage(t *testing.T) {
	cfg, cfgPath := testConfig(t)
	d, _ := startDaemon(t, cfg)
	id := postMessage(t, d.httpAddr, `{"text":"Laskussa on virhe","author":{"name":"Maija"}}`)
	testwait.NoError(t, 0, "the item to be routed", func() error {
		if code, _, errs := runCLI(traceCmd, "-config", cfgPath, id); code != 0 {
			return fmt.Errorf("trace: %s", errs)
		}
		return nil
	})
	if code, out, errs := runCLI(handledCmd, "-config", cfgPath, "-by", "maija", id); code != 0 {
		t.Fatalf("handled: %d %s %s", code, out, errs)
	}
	testwait.NoError(t, 0, "the service levels page to count the response", func() error {
		code, body := httpGet(t, d.httpAddr, "/ui/service-levels?since=1h&bucket=hour")
		if code != 200 {
			return fmt.Errorf("GET /ui/service-levels: %d", code)
		}
		if !strings.Contains(body, "billing") || !strings.Contains(body, "100%") || !strings.Contains(body, "<svg") {
			return fmt.Errorf("page lacks billing at 100%% with a chart")
		}
		return nil
	})
}
