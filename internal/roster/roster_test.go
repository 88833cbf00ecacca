package roster_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/roster"
)

func TestPlaceholder(t *testing.T) {
	for _, s := range []string{"", "  ", "[Name]", "[Phone]", "<name>", "TBD", "todo", "N/A", "xxx", "??", "Name", "[Name] [Phone]"} {
		assert.True(t, roster.Placeholder(s), "%q", s)
	}
	for _, s := range []string{"Alice Martin", "Na Yeon", "+33 6 12 34 56 78", "Bob"} {
		assert.False(t, roster.Placeholder(s), "%q", s)
	}
}

func sample(now time.Time) *roster.Roster {
	r := &roster.Roster{Version: "v2.0.0", Channel: "#granter-deploy", VideoCall: "https://meet.example.com/x",
		Window: roster.Window{Start: now, End: now.Add(6 * time.Hour)}, Path: "roster.yaml"}
	for i, role := range roster.EscalationRoles {
		r.Escalation = append(r.Escalation, roster.Contact{Role: role, Name: "Person " + string(rune('A'+i)), Phone: "+33 6 00 00 00 0" + string(rune('0'+i))})
	}
	r.Members = []roster.Person{{Name: "Alice Martin", Handle: "alice"}, {Name: "Bob Stone", Handle: "bob"}}
	r.OnCall = []roster.Shift{{Handle: "alice", Name: "Alice Martin", Phone: "+33 6 12 34 56 78", From: now.Add(-time.Hour), To: now.Add(3 * time.Hour)},
		{Handle: "bob", Name: "Bob Stone", Phone: "+33 6 12 34 56 79", From: now.Add(3 * time.Hour), To: now.Add(7 * time.Hour)}}
	return r
}

func TestEscalation(t *testing.T) {
	now := time.Now()
	r := sample(now)
	require.NoError(t, r.CheckEscalation())
	r.Escalation[2].Name = "[Name]"
	r.Escalation[4].Phone = "[Phone]"
	r.Escalation = r.Escalation[:5]
	err := r.CheckEscalation()
	require.Error(t, err)
	for _, want := range []string{`Database Admin: name "[Name]" is a placeholder`, `Product Manager (Person E): phone "[Phone]" is a placeholder`, "Executive Sponsor: no contact"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestOnCallCover(t *testing.T) {
	now := time.Now()
	r := sample(now)
	shifts, err := r.OnCallDuring(r.Window.Start, r.Window.End)
	require.NoError(t, err)
	assert.Len(t, shifts, 2)
	assert.Equal(t, []string{"alice", "bob"}, []string{roster.People(shifts)[0].Handle, roster.People(shifts)[1].Handle})

	r.OnCall[1].From = now.Add(4 * time.Hour)
	_, err = r.OnCallDuring(r.Window.Start, r.Window.End)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nobody is on call from "+now.Add(3*time.Hour).Format("2006-01-02 15:04 MST"))
}

func TestConfirmations(t *testing.T) {
	now := time.Now()
	r := sample(now)
	file := filepath.Join(t.TempDir(), "acks.jsonl")
	require.NoError(t, checklist.AppendAck(file, checklist.Ack{Item: 3, Sub: "All team members online", By: "Alice", At: now.Add(-time.Minute)}))
	require.NoError(t, checklist.AppendAck(file, checklist.Ack{Item: 3, Sub: "All team members online", By: "bob", At: now.Add(-5 * time.Hour)}))
	acks, err := roster.ReadAcks(file)
	require.NoError(t, err)
	got, missing := roster.Confirmations(acks, 3, "All team members online", now.Add(-3*time.Hour), r.Members)
	assert.Contains(t, got, "alice")
	require.Len(t, missing, 1, "bob's confirmation is too old")
	assert.Equal(t, "bob", missing[0].Handle)
	assert.True(t, strings.HasPrefix(roster.AckCommand(file, 3, "All team members online", "bob"), "runbook checklist ack -file "))

	none, err := roster.ReadAcks(filepath.Join(t.TempDir(), "none.jsonl"))
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestLoadWrite(t *testing.T) {
	r := sample(time.Now().Truncate(time.Second))
	p := filepath.Join(t.TempDir(), "roster-v2.0.0.yaml")
	require.NoError(t, roster.Write(p, r))
	back, err := roster.Load(p)
	require.NoError(t, err)
	assert.Equal(t, r.Members, back.Members)
	require.NoError(t, back.CheckVersion("v2.0.0"))
	assert.ErrorContains(t, back.CheckVersion("v2.1.0"), `is for "v2.0.0", not v2.1.0`)
}
