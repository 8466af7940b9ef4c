package email

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/internal/telemetry"
)

// Metrics are the email connector's Prometheus metrics, shared by every
// account (the account is a label). A nil *Metrics records nothing.
type Metrics struct {
	mailsRead             *prometheus.CounterVec
	dropped               *prometheus.CounterVec
	flagged               *prometheus.CounterVec
	skipped               *prometheus.CounterVec
	mailboxActionFailures *prometheus.CounterVec
	uidvalidityResyncs    *prometheus.CounterVec
	responses             *prometheus.CounterVec
	sentSkipped           *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	return telemetry.BuildMetrics(reg, "email", func(r *telemetry.Registrar) *Metrics {
		return &Metrics{
			mailsRead: r.CounterVec("switchboard_email_mails_read_total",
				"Mails fetched from IMAP and parsed, by account (ingested or dropped).", "account"),
			dropped: r.CounterVec("switchboard_email_dropped_total",
				"Mails not ingested, by account and reason (own_address, bounce, auto_reply, list).", "account", "reason"),
			flagged: r.CounterVec("switchboard_email_flagged_total",
				"Mails ingested with a flag, by account and flag (truncated, malformed, charset_guessed, text_truncated, undecodable).", "account", "flag"),
			skipped: r.CounterVec("switchboard_email_skipped_total",
				"Mails of which not even the header could be turned into a valid envelope, left in the mailbox and passed by the checkpoint, by account (a bug: see the error log).", "account"),
			mailboxActionFailures: r.CounterVec("switchboard_email_mailbox_action_failures_total",
				"Times the server refused marking ingested mail seen or moving it, by account and action (seen, move).", "account", "action"),
			uidvalidityResyncs: r.CounterVec("switchboard_email_uidvalidity_resyncs_total",
				"Times a mailbox's UIDVALIDITY changed and the mailbox was resynchronised, by account.", "account"),
			responses: r.CounterVec("switchboard_email_responses_total",
				"Responses read from the Sent mailbox and stored (a mail read again is stored once, but counted again), by account.", "account"),
			sentSkipped: r.CounterVec("switchboard_email_sent_skipped_total",
				"Mails in the Sent mailbox that are no response, by account and reason (no_reference, auto_reply, internal, unreadable).", "account", "reason"),
		}
	})
}

func (m *Metrics) mailRead(account string) {
	if m != nil {
		m.mailsRead.WithLabelValues(account).Inc()
	}
}

func (m *Metrics) mailDropped(account, reason string) {
	if m != nil {
		m.dropped.WithLabelValues(account, reason).Inc()
	}
}

func (m *Metrics) mailFlagged(account, flag string) {
	if m != nil {
		m.flagged.WithLabelValues(account, flag).Inc()
	}
}

func (m *Metrics) mailSkipped(account string) {
	if m != nil {
		m.skipped.WithLabelValues(account).Inc()
	}
}

func (m *Metrics) actionFailed(account, action string) {
	if m != nil {
		m.mailboxActionFailures.WithLabelValues(account, action).Inc()
	}
}

func (m *Metrics) resynced(account string) {
	if m != nil {
		m.uidvalidityResyncs.WithLabelValues(account).Inc()
	}
}

func (m *Metrics) responsesRead(account string, n int) {
	if m != nil && n > 0 {
		m.responses.WithLabelValues(account).Add(float64(n))
	}
}

func (m *Metrics) sentMailSkipped(account, reason string) {
	if m != nil {
		m.sentSkipped.WithLabelValues(account, reason).Inc()
	}
}
