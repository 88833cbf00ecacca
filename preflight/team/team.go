package team

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/notify"
	"github.com/granter/runbook/internal/roster"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	MembersOnline       = "All team members online"
	VideoCallActive     = "Video call active"
	ChannelReady        = "Communication channel ready"
	EscalationConfirmed = "Escalation contacts confirmed"
	itemNumber          = 3
)

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	now func() time.Time
}

// WithClock replaces time.Now for the age of the confirmations.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns checklist item 3 for tgt.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	it := &item{tgt: tgt, c: c}
	return checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		MembersOnline:       it.membersOnline,
		VideoCallActive:     it.videoCall,
		ChannelReady:        it.channel,
		EscalationConfirmed: it.escalation,
	})
}

type item struct {
	tgt *target.Target
	c   config

	once   sync.Once
	roster *roster.Roster
	err    error
}

// load reads the roster of VERSION once for every sub-item.
func (it *item) load() (*roster.Roster, error) {
	it.once.Do(func() { it.roster, it.err = roster.LoadFor(it.tgt) })
	return it.roster, it.err
}

func (it *item) membersOnline(ctx context.Context, r *flow.Recorder) error {
	ro, err := it.load()
	if err != nil {
		return err
	}
	if err := ro.CheckMembers(); err != nil {
		return err
	}
	file, acks, since, err := roster.AcksFor(it.tgt, it.c.now())
	if err != nil {
		return err
	}
	got, missing := roster.Confirmations(acks, itemNumber, MembersOnline, since, ro.Members)
	var seen []string
	for _, m := range ro.Members {
		if a, ok := got[m.Handle]; ok {
			r.Logf("%s (%s, %s): online, confirmed at %s %s", m.Name, m.Handle, m.Role, a.At.Format(time.RFC3339), a.Note)
			seen = append(seen, fmt.Sprintf("%s %s", m.Handle, a.At.Local().Format("15:04")))
		}
	}
	if len(missing) > 0 {
		var lines []string
		for _, m := range missing {
			lines = append(lines, fmt.Sprintf("%s (%s) has not confirmed since %s: %s", m.Name, m.Handle, since.Local().Format("2006-01-02 15:04 MST"),
				roster.AckCommand(file, itemNumber, MembersOnline, m.Handle)))
		}
		return fmt.Errorf("%d of %d team members (%s) not confirmed online: %s", len(missing), len(ro.Members), ro.Path, strings.Join(lines, "; "))
	}
	checklist.Evidence(r, "%d/%d members of %s confirmed online: %s", len(seen), len(ro.Members), ro.Path, strings.Join(seen, ", "))
	return nil
}

func (it *item) videoCall(ctx context.Context, r *flow.Recorder) error {
	ro, err := it.load()
	if err != nil {
		return err
	}
	if u, err := url.Parse(ro.VideoCall); roster.Placeholder(ro.VideoCall) || err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("roster %s: videoCall %q is not the link of a call (want https://...)", ro.Path, ro.VideoCall)
	}
	file, acks, since, err := roster.AcksFor(it.tgt, it.c.now())
	if err != nil {
		return err
	}
	got, _ := roster.Confirmations(acks, itemNumber, VideoCallActive, since, ro.Members)
	var best *checklist.Ack
	for _, a := range got {
		if best == nil || a.At.After(best.At) {
			best = &a
		}
	}
	if best == nil {
		host := "<handle>"
		if len(ro.Members) > 0 {
			host = ro.Members[0].Handle
		}
		return fmt.Errorf("nobody of the team confirmed the video call %s is active since %s: the host runs %s -note %s",
			ro.VideoCall, since.Local().Format("2006-01-02 15:04 MST"), roster.AckCommand(file, itemNumber, VideoCallActive, host), ro.VideoCall)
	}
	checklist.Evidence(r, "%s, active: confirmed by %s at %s", ro.VideoCall, best.By, best.At.Local().Format("15:04 MST"))
	return nil
}

// Message is the text "Communication channel ready" posts.
func Message(tgt *target.Target) string {
	return fmt.Sprintf("Pre-deployment checklist (%s, %s): communication channel check from the runbook's preflight; no action needed.", tgt.Env, tgt.Version)
}

func (it *item) channel(ctx context.Context, r *flow.Recorder) error {
	w := it.tgt.Webhook
	if w == nil || w.URL.IsZero() {
		return fmt.Errorf("no team channel configured (webhook.urlEnv in %s): the runbook's messages (Step 1.2, the rollback) have nowhere to go", it.tgt.File)
	}
	if ro, err := it.load(); err == nil && ro.Channel != "" && w.Channel != "" && ro.Channel != w.Channel {
		return fmt.Errorf("the roster %s names channel %s, the webhook posts to %s (webhook.channel in %s): make them the same", ro.Path, ro.Channel, w.Channel, it.tgt.File)
	}
	msg := Message(it.tgt)
	start := time.Now()
	if err := notify.New(w.URL.Reveal(), w.Channel, it.tgt.HTTP.Timeout).Send(ctx, msg); err != nil {
		var ne *notify.Error
		if errors.As(err, &ne) {
			return fmt.Errorf("%w: the channel does not take the runbook's messages; check the webhook (%s) and the chat service", err, w.URL)
		}
		return err
	}
	took := time.Since(start)
	r.Logf("posted to %s: %q", w.Channel, msg)
	checklist.Evidence(r, "a message posted to %s was taken (2xx in %s)", w.Channel, took.Round(time.Millisecond))
	return nil
}

func (it *item) escalation(ctx context.Context, r *flow.Recorder) error {
	ro, err := it.load()
	if err != nil {
		return err
	}
	if err := ro.CheckEscalation(); err != nil {
		return fmt.Errorf("%w: fill in every role with a name and a phone number", err)
	}
	var roles []string
	for _, role := range roster.EscalationRoles {
		for _, c := range ro.Escalation {
			if strings.EqualFold(strings.TrimSpace(c.Role), role) {
				roles = append(roles, fmt.Sprintf("%s: %s", role, c.Name))
				r.Logf("%s: %s, %s", role, c.Name, c.Phone)
				break
			}
		}
	}
	checklist.Evidence(r, "all %d roles filled, each with a phone number (%s)", len(roles), strings.Join(roles, "; "))
	return nil
}
