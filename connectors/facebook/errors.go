package facebook

import (
	"errors"
	"fmt"
	"strings"
)

// errClass says how the connector reacts to a failed Graph request. See the
// Graph API references "Handling Errors" and "Rate Limits".
type errClass int

const (
	// classOther: a request the Graph API refuses for good (a bad parameter,
	// a deleted object). The poll fails; the supervisor retries with backoff.
	classOther errClass = iota
	// classTransient: a network error, a 5xx, is_transient, codes 1 and 2.
	// Retried with a short backoff within the poll.
	classTransient
	// classRateLimit: codes 4, 17, 32, 613 and 80000-80014 (80001 for page
	// tokens), or HTTP 429. The page pauses until the usage headers say
	// access is back, then goes on.
	classRateLimit
	// classToken: the token was rejected (190 and its subcodes, 102).
	classToken
	// classPermission: the token lacks a permission (10, 200-299).
	classPermission
	// classMalformed: a 2xx answer that is not the JSON the API documents.
	classMalformed
)

func (c errClass) String() string {
	switch c {
	case classTransient:
		return "transient"
	case classRateLimit:
		return "rate_limited"
	case classToken:
		return "token_rejected"
	case classPermission:
		return "permission_denied"
	case classMalformed:
		return "malformed"
	}
	return "error"
}

// graphError is a failed Graph request. Its text never holds the token or a
// URL with query parameters.
type graphError struct {
	class   errClass
	what    string // what was being read, e.g. "feed of page 123"
	status  int    // HTTP status; 0 when no answer arrived
	code    int    // Graph error code; 0 when none
	subcode int
	typ     string
	msg     string // Graph error message, or the transport/parse problem
	trace   string // fbtrace_id
}

func (e *graphError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "reading %s: ", e.what)
	switch {
	case e.code != 0:
		fmt.Fprintf(&b, "Graph API error code %d", e.code)
		if e.subcode != 0 {
			fmt.Fprintf(&b, " subcode %d", e.subcode)
		}
		if e.typ != "" {
			fmt.Fprintf(&b, " (%s)", e.typ)
		}
		fmt.Fprintf(&b, ": %s", e.msg)
		if e.status != 0 {
			fmt.Fprintf(&b, " [HTTP %d]", e.status)
		}
		if e.trace != "" {
			fmt.Fprintf(&b, " [fbtrace_id %s]", e.trace)
		}
	case e.status != 0:
		fmt.Fprintf(&b, "HTTP %d: %s", e.status, e.msg)
	default:
		b.WriteString(e.msg)
	}
	return b.String()
}

// classOf returns the class of the first graphError in err's chain, and
// whether there is one.
func classOf(err error) (errClass, *graphError) {
	var ge *graphError
	if errors.As(err, &ge) {
		return ge.class, ge
	}
	return classOther, nil
}

// classifyCode maps a Graph error to a class.
func classifyCode(status, code int, transient bool) errClass {
	switch {
	case code == 4 || code == 17 || code == 32 || code == 613 || (code >= 80000 && code <= 80014):
		return classRateLimit
	case code == 190 || code == 102:
		return classToken
	case code == 10 || (code >= 200 && code <= 299):
		return classPermission
	case transient || code == 1 || code == 2 || status >= 500:
		return classTransient
	case status == 429:
		return classRateLimit
	}
	return classOther
}

// tokenProblem explains a code 190 subcode in words.
func tokenProblem(subcode int) string {
	switch subcode {
	case 458:
		return "the app was removed from the page or its user"
	case 459:
		return "the user behind the token is checkpointed and must log in to Facebook"
	case 460:
		return "the password of the user behind the token changed"
	case 463:
		return "the token expired"
	case 464:
		return "the user behind the token is unconfirmed"
	case 467:
		return "the token is invalid (revoked, or the user logged out)"
	case 492:
		return "the user behind the token no longer has a role on the page"
	}
	return "the token is expired, revoked or invalid"
}
