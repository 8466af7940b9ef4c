package bus

import (
	"testing"

	"github.com/switchboard/switchboard/internal/config"
)

func TestSubjects(t *testing.T) {
	st := config.Default().Streams
	st.Prefix = "sb"
	s := NewSubjects(st)
	for _, tt := range []struct{ got, want string }{
		{s.Ingest("web"), "sb.ingest.web"},
		{s.Team("billing"), "sb.team.billing"},
		{s.Dead("malformed"), "sb.dead.malformed"},
		{s.AllIngest(), "sb.ingest.>"},
		{s.AllTeams(), "sb.team.>"},
		{s.AllDead(), "sb.dead.>"},
		{s.Decisions(), "sb.decision"},
		{s.Corrections(), "sb.correction"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if s.IngestStream != st.Ingest.Name || s.TeamStream != st.Team.Name || s.DeadStream != st.Dead.Name {
		t.Errorf("stream names %+v", s)
	}
}
