//go:build !staging && !prod

package team_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/roster"
	"github.com/granter/runbook/preflight/team"
)

// The fault tests run locally only: each breaks what one sub-item guards.

// withTeam runs item 3 on a copy of the target whose roster and
// confirmations are those of preflightlab, changed by edit (the roster)
// and drop (confirmations left out).
func withTeam(t *testing.T, edit func(r *roster.Roster), drop func(a checklist.Ack) bool) flow.Result {
	t.Helper()
	dir := t.TempDir()
	tg := *tgt
	tg.Team.Roster = filepath.Join(dir, "roster-{version}.yaml")
	tg.Team.Acks = filepath.Join(dir, "acks-{version}.jsonl")
	now := time.Now()
	r := preflightlab.Roster(tg.Version, tg.Webhook.Channel, now)
	good := filepath.Join(dir, "all-acks.jsonl")
	require.NoError(t, preflightlab.TeamAcks(good, r, now.Add(-time.Minute)))
	acks, err := roster.ReadAcks(good)
	require.NoError(t, err)
	for _, a := range acks {
		if drop == nil || !drop(a) {
			require.NoError(t, checklist.AppendAck(tg.Team.AcksFor(tg.Version), a))
		}
	}
	if edit != nil {
		edit(r)
	}
	require.NoError(t, roster.Write(tg.Team.RosterFor(tg.Version), r))
	return flow.Run(t.Context(), team.New(&tg))
}

func TestTeamCoordinationFaults(t *testing.T) {
	localenv.RequireStarted(t, env)
	t.Run("placeholder contact", func(t *testing.T) {
		res := withTeam(t, func(r *roster.Roster) {
			for i := range r.Escalation {
				if r.Escalation[i].Role == "Database Admin" {
					r.Escalation[i] = roster.Contact{Role: "Database Admin", Name: "[Name]", Phone: "[Phone]"}
				}
			}
		}, nil)
		checklist.AssertOnlyFails(t, res, team.EscalationConfirmed,
			`Database Admin: name "[Name]" is a placeholder`, `phone "[Phone]" is a placeholder`)
	})
	t.Run("role not filled", func(t *testing.T) {
		res := withTeam(t, func(r *roster.Roster) { r.Escalation = r.Escalation[:len(r.Escalation)-1] }, nil)
		checklist.AssertOnlyFails(t, res, team.EscalationConfirmed, "Executive Sponsor: no contact")
	})
	t.Run("member has not confirmed", func(t *testing.T) {
		res := withTeam(t, func(r *roster.Roster) {
			r.Members = append(r.Members, roster.Person{Name: "Eve Moreau", Handle: "eve", Phone: "+33 6 78 90 12 34", Role: "Backend Engineer"})
		}, nil)
		checklist.AssertOnlyFails(t, res, team.MembersOnline, "1 of 5 team members", "Eve Moreau (eve) has not confirmed",
			`runbook checklist ack -file `, `-item 3 -sub "All team members online" -by eve`)
	})
	t.Run("confirmations too old", func(t *testing.T) {
		res := flow.Run(t.Context(), team.New(tgt, team.WithClock(func() time.Time { return time.Now().Add(4 * time.Hour) })))
		var online flow.StepResult
		for _, s := range res.Steps {
			if s.Name == team.MembersOnline {
				online = s
			}
		}
		require.Equal(t, flow.Failed, online.Status, "confirmations made 4 hours ago do not count (team.ackMaxAge 3h)")
		require.ErrorContains(t, online.Err, "has not confirmed since")
	})
	t.Run("no video call confirmation", func(t *testing.T) {
		res := withTeam(t, nil, func(a checklist.Ack) bool { return a.Sub == team.VideoCallActive })
		checklist.AssertOnlyFails(t, res, team.VideoCallActive, "nobody of the team confirmed the video call", `-sub "Video call active" -by alice`)
	})
	t.Run("no video call link", func(t *testing.T) {
		res := withTeam(t, func(r *roster.Roster) { r.VideoCall = "[Link]" }, nil)
		checklist.AssertOnlyFails(t, res, team.VideoCallActive, `videoCall "[Link]" is not the link of a call`)
	})
	t.Run("channel webhook failing", func(t *testing.T) {
		env.Webhook.SetFailing(true)
		t.Cleanup(func() { env.Webhook.SetFailing(false) })
		res := withTeam(t, nil, nil)
		checklist.AssertOnlyFails(t, res, team.ChannelReady, "notify #granter-deploy: webhook answered 500", "webhook sink failing on purpose")
	})
	t.Run("channel not the roster's", func(t *testing.T) {
		res := withTeam(t, func(r *roster.Roster) { r.Channel = "#granter-ops" }, nil)
		checklist.AssertOnlyFails(t, res, team.ChannelReady, "the roster", "names channel #granter-ops, the webhook posts to #granter-deploy")
	})
}

// The channel check is a real post: the sink recorded it.
func TestChannelMessageRecorded(t *testing.T) {
	localenv.RequireStarted(t, env)
	res := flow.Run(t.Context(), team.New(tgt))
	checklist.AssertAllPass(t, res)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	m, err := env.Webhook.WaitFor(ctx, team.Message(tgt))
	require.NoError(t, err)
	require.Equal(t, tgt.Webhook.Channel, m.Channel)
}
