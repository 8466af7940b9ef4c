package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
)

const rulesReloadUsage = `usage: switchboard rules reload [-config FILE] [-force]

Ask the running daemon to read its rules file again and print the outcome
(the daemon also reloads by itself when the file changes, and on SIGHUP).
-force puts a valid file in use even when the reload guard refuses it — a
file with no routes, far fewer routes, or without a team items still
reference (SIGUSR1 does the same). An invalid file is rejected either way.
It calls POST /v1/rules/reload on http.listen with an admin ops token: the
first admin token of http.ops.tokens, else the one the daemon generated
into <data_dir>/ops-token.`

// rulesReload implements "switchboard rules reload [-force]".
func rulesReload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard rules reload", rulesReloadUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file (to find the daemon and an ops token)")
	force := fs.Bool("force", false, "put the file in use even when the reload guard refuses it")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fs.Failf("%v", err)
	}
	if cfg.HTTP.Listen == "" {
		return fs.Failf("http.listen is empty: the daemon serves no HTTP API; send it SIGHUP (or SIGUSR1 to force) instead")
	}
	token, err := adminToken(cfg)
	if err != nil {
		return fs.Failf("%v", err)
	}
	url := "http://" + cfg.HTTP.Listen + "/v1/rules/reload"
	if *force {
		url += "?force=true"
	}
	ctx, cancel := context.WithTimeout(ctx, reloadWait+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return fs.Failf("%v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fs.Failf("asking the daemon at %s: %v (is it running?)", cfg.HTTP.Listen, err)
	}
	defer resp.Body.Close()
	var out reloadOutcome
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return fs.Failf("the daemon answered %s", resp.Status)
	}
	switch {
	case resp.StatusCode == http.StatusOK && out.OK:
		fmt.Fprintf(stdout, "rules reloaded: version %s\n", out.Version)
		return cli.ExitOK
	case out.Error != "":
		return fs.Failf("%s", out.Error)
	}
	return fs.Failf("the daemon answered %s", resp.Status)
}

// adminToken is an admin ops token for cfg's daemon: the first admin token
// of http.ops.tokens, else the generated one in data_dir.
func adminToken(cfg *config.Config) (string, error) {
	for _, t := range cfg.HTTP.Ops.Tokens {
		if t.Role == config.OpsRoleAdmin && t.Token.Reveal() != "" {
			return t.Token.Reveal(), nil
		}
	}
	if len(cfg.HTTP.Ops.Tokens) > 0 {
		return "", errors.New("http.ops.tokens lists no admin token")
	}
	data, err := os.ReadFile(opsTokenFile(cfg))
	if err != nil {
		return "", fmt.Errorf("reading the ops token the daemon generates: %w (run this as the daemon's user, or configure http.ops.tokens)", err)
	}
	return strings.TrimSpace(string(data)), nil
}
