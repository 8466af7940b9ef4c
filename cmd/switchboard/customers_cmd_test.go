package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/customer/admin"
	"github.com/switchboard/switchboard/internal/testwait"
)

// The customers commands and endpoints against a running daemon: a web
// form's author becomes a customer with a case; show, link, forget.
func TestCustomersCommandsAndEndpoints(t *testing.T) {
	cfg, cfgPath := testConfig(t)
	d, _ := startDaemon(t, cfg)
	id := postMessage(t, d.httpAddr, `{"text":"Laskussa on virhe, tilaus 1180442","author":{"name":"Maija","email":"maija@example.fi"}}`)
	postMessage(t, d.httpAddr, `{"text":"Paketti ei tullut","author":{"name":"Maija V","email":"maija.v@example.org"}}`)

	var p admin.Profile
	testwait.NoError(t, 0, "maija's customer with a case", func() error {
		code, out, errs := runCLI(customersShow, "-config", cfgPath, "-json", "email:maija@example.fi")
		if code != 0 {
			return &cliError{code, errs}
		}
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			return err
		}
		if len(p.Cases) == 0 {
			return &cliError{0, "no case yet"}
		}
		return nil
	})
	if p.Customer == nil || p.Cases[0].Team != "billing" || p.Cases[0].Items[0] != id {
		t.Fatalf("profile %+v", p)
	}
	code, out, _ := runCLI(customersShow, "-config", cfgPath, "email:maija@example.fi")
	if code != 0 || !strings.Contains(out, "email:maija@example.fi") || !strings.Contains(out, "billing") {
		t.Fatalf("show: %d\n%s", code, out)
	}
	if code, _, errs := runCLI(customersShow, "-config", cfgPath, "email:nobody@example.fi"); code != 1 || !strings.Contains(errs, "no customer") {
		t.Fatalf("show of an unknown key: %d %q", code, errs)
	}
	if code, _, errs := runCLI(customersShow, "-config", cfgPath, "nonsense"); code != 1 || !strings.Contains(errs, `key "nonsense"`) {
		t.Fatalf("show of a malformed key: %d %q", code, errs)
	}

	// The HTTP API: read-only with the token, nothing without.
	if code, body := httpGet(t, d.httpAddr, "/v1/customers/email:maija@example.fi"); code != http.StatusOK || !strings.Contains(body, p.Customer.ID) {
		t.Fatalf("GET /v1/customers: %d %s", code, body)
	}
	if code, _ := httpGetToken(t, d.httpAddr, "/v1/customers/email:maija@example.fi", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /v1/customers without a token: %d", code)
	}

	testwait.NoError(t, 0, "the second customer", func() error {
		code, _, errs := runCLI(customersShow, "-config", cfgPath, "email:maija.v@example.org")
		if code != 0 {
			return &cliError{code, errs}
		}
		return nil
	})
	if code, out, errs := runCLI(customersLink, "-config", cfgPath, "email:maija@example.fi", "email:maija.v@example.org"); code != 0 || !strings.Contains(out, "are customer") {
		t.Fatalf("link: %d %q %q", code, out, errs)
	}
	code, out, errs := runCLI(customersForget, "-config", cfgPath, "-messages", "email:maija.v@example.org")
	if code != 0 || !strings.Contains(out, "keys removed") || !strings.Contains(out, "messages deleted from the ingest stream: 2") {
		t.Fatalf("forget: %d\n%s\n%s", code, out, errs)
	}
	if code, _, _ := runCLI(customersShow, "-config", cfgPath, "email:maija@example.fi"); code != 1 {
		t.Fatal("the customer is still there after forget")
	}
}

type cliError struct {
	code int
	msg  string
}

func (e *cliError) Error() string { return e.msg }
