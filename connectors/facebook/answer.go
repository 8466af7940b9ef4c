package facebook

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/switchboard/switchboard/internal/message"
)

// errorBody is a Graph API error answer: {"error": {...}} (Graph API
// reference, "Handling Errors").
type errorBody struct {
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		IsTransient  bool   `json:"is_transient"`
		TraceID      string `json:"fbtrace_id"`
	} `json:"error"`
}

// decodeAnswer turns one Graph answer into an edge or a graphError: an
// error object wins whatever the status; an error status without one is
// classified by the status; a 2xx answer must be a list ({"data": [...]}).
// Texts are truncated but not scrubbed: the caller scrubs them.
func decodeAnswer(what string, status int, body []byte) (*edge, *graphError) {
	ge := &graphError{what: what, status: status}
	var eb errorBody
	isJSON := json.Unmarshal(body, &eb) == nil
	if isJSON && eb.Error != nil {
		fe := eb.Error
		ge.code, ge.subcode, ge.typ, ge.trace = fe.Code, fe.ErrorSubcode, message.Clip(fe.Type, 80), message.Clip(fe.TraceID, 80)
		ge.msg = message.Clip(fe.Message, 300)
		ge.class = classifyCode(status, fe.Code, fe.IsTransient)
		if ge.code == 0 && ge.class == classOther && status < 300 {
			ge.class = classMalformed // an error object without a code on a 2xx
		}
		return nil, ge
	}
	if status >= 300 || status < 200 {
		ge.class = classifyCode(status, 0, false)
		ge.msg = "error status without a Graph API error object"
		if !isJSON {
			ge.msg = "the answer is not Graph API JSON"
		}
		if status == http.StatusTooManyRequests {
			ge.class = classRateLimit
		}
		return nil, ge
	}
	e, err := parseEdge(bytes.TrimSpace(body))
	if err != nil {
		ge.class, ge.msg = classMalformed, err.Error()
		return nil, ge
	}
	return e, nil
}
