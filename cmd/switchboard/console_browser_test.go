package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/internal/testwait"
)

// inCI reports whether the tests run in CI, where the browser test must
// not skip (.ci/run sets SWITCHBOARD_CI; CI systems set CI).
func inCI() bool {
	for _, k := range []string{"SWITCHBOARD_CI", "CI"} {
		if v := strings.ToLower(os.Getenv(k)); v != "" && v != "0" && v != "false" {
			return true
		}
	}
	return false
}

// chromium finds a Chromium or Chrome binary; without one the test skips
// loudly, or fails in CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if inCI() {
		t.Fatal("no chromium found, and CI must run the browser test: .ci/run installs Debian's chromium package")
	}
	t.Skip("SKIPPING the browser test of the ops console: no chromium found. Install it with: apt-get install -y chromium")
	return ""
}

// TestConsoleInBrowser drives the console in headless Chromium against a
// real daemon: log in with the ops token, post an item through the intake,
// find it on the Messages page, open its trace and check its team. With
// SWITCHBOARD_SCREENSHOT=FILE it also saves a screenshot of the overview
// (how docs/console-overview.png is made).
func TestConsoleInBrowser(t *testing.T) {
	exe := chromium(t)
	cfg, cfgPath := testConfig(t)
	d, _ := startDaemon(t, cfg)
	base := "http://" + d.httpAddr
	postMessage(t, d.httpAddr, `{"text":"Paketti on kadoksissa","author":{"name":"Pekka"}}`)
	id := postMessage(t, d.httpAddr, `{"text":"Laskussani on sama tilaus kahdesti <script>document.title='pwned'</script>","author":{"name":"Maija Meikäläinen"}}`)
	testwait.NoError(t, 0, "the router's decision record of "+id, func() error {
		if code, _, e := runCLI(traceCmd, "-config", cfgPath, id); code != 0 {
			return fmt.Errorf("trace: %s", e)
		}
		return nil
	})
	token := []byte(testOpsToken)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// A page without a session sends to the login form, and back.
	step(t, "log in", chromedp.Do(ctx,
		chromedp.Navigate(base+"/ui/messages"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), strings.TrimSpace(string(token))),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("search")),
	))
	loc := value(t, "location", ctx, chromedp.Location())
	// Search for the item, then open its trace.
	step(t, "search", chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("q"), "laskussani"),
		chromedp.Click(chromedp.ID("search")),
	))
	// The page before the search has a result table too: wait for the new one.
	testwait.Until(t, 0, "the search results page", func() bool {
		u, err := chromedp.Run(ctx, chromedp.Location())
		return err == nil && strings.Contains(u, "q=laskussani")
	})
	step(t, "search results", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("results"))))
	results := value(t, "results", ctx, chromedp.Text(chromedp.ID("results")))
	step(t, "open the trace", chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//table[@id="results"]//a[text()="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("decision")),
	))
	teams := value(t, "teams", ctx, chromedp.Text(chromedp.ID("teams")))
	text := value(t, "text", ctx, chromedp.Text(chromedp.ID("text")))
	title := value(t, "title", ctx, chromedp.Title())
	if !strings.HasSuffix(loc, "/ui/messages") {
		t.Fatalf("after logging in the browser is at %s, want the page it asked for", loc)
	}
	if !strings.Contains(results, id) || strings.Contains(results, "Pekka") {
		t.Fatalf("the search shows:\n%s", results)
	}
	if strings.TrimSpace(teams) != "billing" {
		t.Fatalf("the trace shows teams %q, want billing", teams)
	}
	if !strings.Contains(text, "<script>document.title='pwned'</script>") || strings.Contains(title, "pwned") {
		t.Fatalf("the message text is not shown as text (title %q):\n%s", title, text)
	}

	if path := os.Getenv("SWITCHBOARD_SCREENSHOT"); path != "" {
		step(t, "open the overview", chromedp.Do(ctx, chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("attention"))))
		png := value(t, "screenshot", ctx, chromedp.FullScreenshot(100))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}

// step fails the test when a browser step failed.
func step(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// value runs a browser action that reads something.
func value[T any](t *testing.T, what string, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	step(t, what, err)
	return v
}
