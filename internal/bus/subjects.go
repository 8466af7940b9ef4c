package bus

import "github.com/switchboard/switchboard/internal/config"

// Subjects is the one place subject and stream names are built: every
// subject is "<prefix>.<kind>.<token>", kind ingest, team, dead or decision.
type Subjects struct {
	Prefix                               string
	IngestStream, TeamStream, DeadStream string
	// DecisionStream holds the decision records (router/decisions).
	DecisionStream string
	// CorrectionStream holds operators' corrections (router/corrections).
	CorrectionStream string
}

// DecisionStreamName is the decision records stream's name.
const DecisionStreamName = "SWITCHBOARD_DECISIONS"

// CorrectionStreamName is the corrections stream's name.
const CorrectionStreamName = "SWITCHBOARD_CORRECTIONS"

// NewSubjects returns the names configured in s.
func NewSubjects(s config.Streams) Subjects {
	return Subjects{Prefix: s.Prefix, IngestStream: s.Ingest.Name, TeamStream: s.Team.Name, DeadStream: s.Dead.Name,
		DecisionStream: DecisionStreamName, CorrectionStream: CorrectionStreamName}
}

// Decisions is the subject prefix of decision records: a record is kept on
// Decisions().<channel>.<hash of the item id>.
func (s Subjects) Decisions() string { return s.Prefix + ".decision" }

// Corrections is the subject prefix of corrections: a correction to team
// is kept on Corrections().<team>.<hash of the item id>.
func (s Subjects) Corrections() string { return s.Prefix + ".correction" }

// Ingest is the subject a channel's envelopes are published on.
func (s Subjects) Ingest(channel string) string { return s.subject("ingest", channel) }

// Team is the subject of a team's queue.
func (s Subjects) Team(team string) string { return s.subject("team", team) }

// Dead is the dead-letter subject for a reason.
func (s Subjects) Dead(reason string) string { return s.subject("dead", reason) }

// AllIngest matches every ingest subject: the ingest stream's subject and
// the filter of everything that reads it (the router, backtests).
func (s Subjects) AllIngest() string { return s.Ingest(">") }

// AllTeams matches every team subject: the team stream's subject.
func (s Subjects) AllTeams() string { return s.Team(">") }

// AllDead matches every dead-letter subject: the dead stream's subject.
func (s Subjects) AllDead() string { return s.Dead(">") }

func (s Subjects) subject(kind, token string) string { return s.Prefix + "." + kind + "." + token }
