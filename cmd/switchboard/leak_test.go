package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/connectors/facebook/fbtest"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/internal/testwait"
)

// TestCredentialsEchoedByServersNeverLeak runs the daemon against, per
// connector, a server that echoes the credential it was sent in its error
// answer, as real ones do (an IMAP server repeating the LOGIN line, an API
// quoting the token it refused). The error shows in GET /v1/connectors and
// in the log, scrubbed: the credential appears in neither.
func TestCredentialsEchoedByServersNeverLeak(t *testing.T) {
	tests := []struct {
		name string
		// start starts the echoing server and returns the connectors
		// section of the config, the connector to watch and the
		// credential it must never show.
		start func(t *testing.T) (yaml, connector, credential string)
	}{
		{"email", func(t *testing.T) (string, string, string) {
			const pw = `imap"pw\S3cret`
			host, port, _ := net.SplitHostPort(echoingIMAP(t))
			t.Setenv("TEST_IMAP_PW", pw)
			return fmt.Sprintf("  email:\n    enabled: true\n    accounts:\n      - {name: tuki, host: %s, port: %s, tls: none, username: tuki@yritys.fi, password: '${TEST_IMAP_PW}'}\n",
				host, port), "email.tuki", pw
		}},
		{"facebook", func(t *testing.T) (string, string, string) {
			const token = "EAApage-S3cret-token"
			fake := fbtest.New(t, config.DefaultFacebookGraphVersion, time.Now())
			fake.AddPage("111", "Yritys", token)
			fake.Fail("111", fbtest.Fault{Status: 400, Error: &fbtest.GraphError{
				Message: "Error validating access token " + token + ": the session was invalidated", Type: "OAuthException", Code: 190}})
			return fmt.Sprintf("  facebook:\n    base_url: %s\n    pages:\n      - {id: \"111\", token: %s}\n", fake.URL(), token), "facebook.111", token
		}},
		{"x", func(t *testing.T) (string, string, string) {
			api := xtest.New(t)
			api.AddUser(xtest.User{ID: "1500000000000000001", Username: "acme"})
			api.Fail(xtest.Mentions, xtest.Fault{Status: 401, Sticky: true,
				Body: `{"title":"Unauthorized","detail":"Bearer ` + api.AppToken + ` is not valid","type":"about:blank","status":401}`})
			return fmt.Sprintf("  x:\n    enabled: true\n    base_url: %s\n    user_id: \"1500000000000000001\"\n    bearer_token: %s\n    mentions: true\n",
				api.URL, api.AppToken), "x.mentions", api.AppToken
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, path := testConfig(t)
			section, connector, credential := tt.start(t)
			cfg := withConfig(t, path, section)
			core, logs := observer.New(zap.DebugLevel)
			d, stop := startDaemon(t, cfg, func(d *daemon) { d.log = telemetry.Redact(zap.New(core), d.secrets) })

			var body string
			testwait.Until(t, 0, connector+"'s echoed error in /v1/connectors", func() bool {
				_, body = httpGet(t, d.httpAddr, "/v1/connectors")
				return strings.Contains(body, `"`+connector+`"`) && strings.Contains(body, secret.Redacted)
			})
			stop()
			if strings.Contains(body, credential) {
				t.Fatalf("/v1/connectors shows the credential:\n%s", body)
			}
			if logs.Len() == 0 {
				t.Fatal("nothing was logged")
			}
			for _, e := range logs.All() {
				if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, credential) {
					t.Fatalf("the log shows the credential: %s", line)
				}
			}
		})
	}
}

// withConfig appends section to the connectors section of the config file
// at path (testConfig's, which ends with it) and loads the file again.
func withConfig(t *testing.T, path, section string) *config.Config {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(section); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// echoingIMAP starts an IMAP server that refuses every LOGIN, repeating the
// LOGIN line in its answer, and returns its address.
func echoingIMAP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveEchoingIMAP(conn)
		}
	}()
	return ln.Addr().String()
}

func serveEchoingIMAP(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "* OK [CAPABILITY IMAP4rev1] fake IMAP ready\r\n")
	for {
		line, err := readCommand(conn, r)
		if err != nil {
			return
		}
		tag, rest, _ := strings.Cut(line, " ")
		cmd, _, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(cmd) {
		case "CAPABILITY":
			fmt.Fprintf(conn, "* CAPABILITY IMAP4rev1\r\n%s OK done\r\n", tag)
		case "LOGIN":
			fmt.Fprintf(conn, "%s NO [AUTHENTICATIONFAILED] Authentication failed: %s\r\n", tag, line)
		case "LOGOUT":
			fmt.Fprintf(conn, "* BYE\r\n%s OK bye\r\n", tag)
			return
		default:
			fmt.Fprintf(conn, "%s BAD not supported here\r\n", tag)
		}
	}
}

// readCommand reads one command line, with its literals ({n}) inline.
func readCommand(conn net.Conn, r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = strings.TrimRight(line, "\r\n")
		b.WriteString(line)
		open := strings.LastIndexByte(line, '{')
		if open < 0 || !strings.HasSuffix(line, "}") {
			return b.String(), nil
		}
		size := strings.TrimSuffix(line[open+1:len(line)-1], "+")
		n, err := strconv.Atoi(size)
		if err != nil || n < 0 || n > 1<<16 {
			return b.String(), nil
		}
		if !strings.HasSuffix(line, "+}") {
			fmt.Fprint(conn, "+ go on\r\n")
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(r, lit); err != nil {
			return "", err
		}
		b.Write(lit)
	}
}
