package bus

import (
	"github.com/nats-io/nats-server/v2/server"

	"github.com/switchboard/switchboard/internal/config"
)

// TeamInboxPrefix is the inbox prefix a team's worker must use on the
// embedded server (nats.CustomInboxPrefix, or the nats CLI's
// --inbox-prefix): the only subjects it may subscribe to are below it.
func TeamInboxPrefix(team string) string { return "_INBOX." + team }

// teamWorkerPermissions lets a worker of team read the team's queue and
// nothing else: it may create (or update) one durable pull consumer on the
// team stream, named after the team and filtered to the team's subject,
// fetch from it and ack, and read the stream's metadata. It cannot publish
// anything, read another team's items or other streams, list streams, or
// delete or purge anything.
func teamWorkerPermissions(s config.Streams, team string) *server.Permissions {
	stream, subject := s.Team.Name, NewSubjects(s).Team(team)
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO." + stream,
			// The filter is part of the subject, so the server checks it.
			"$JS.API.CONSUMER.CREATE." + stream + "." + team + "." + subject,
			"$JS.API.CONSUMER.INFO." + stream + "." + team,
			"$JS.API.CONSUMER.MSG.NEXT." + stream + "." + team,
			"$JS.ACK." + stream + "." + team + ".>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{TeamInboxPrefix(team) + ".>"}},
	}
}

// teamWorkerUsers returns the configured team workers as server users.
func teamWorkerUsers(cfg *config.Config) []*server.NkeyUser {
	users := make([]*server.NkeyUser, 0, len(cfg.NATS.Embedded.TeamWorkers))
	for _, w := range cfg.NATS.Embedded.TeamWorkers {
		users = append(users, &server.NkeyUser{Nkey: w.NKey, Permissions: teamWorkerPermissions(cfg.Streams, w.Team)})
	}
	return users
}
