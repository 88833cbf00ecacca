//go:build !staging && !prod

package monitoring_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/roster"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/monitoring"
)

// The fault tests run locally only: each breaks what one sub-item guards.

// run runs item 7 on a copy of the target changed by edit.
func run(t *testing.T, edit func(tg *target.Target), opts ...monitoring.Option) flow.Result {
	t.Helper()
	tg := *tgt
	p := *tgt.Prometheus
	tg.Prometheus = &p
	if edit != nil {
		edit(&tg)
	}
	return flow.Run(t.Context(), monitoring.New(&tg, opts...))
}

// withRoster points tg at a roster of its version changed by edit, and at
// the team's confirmations, less those drop leaves out.
func withRoster(t *testing.T, tg *target.Target, edit func(r *roster.Roster), drop func(a checklist.Ack) bool) {
	t.Helper()
	dir := t.TempDir()
	tg.Team.Roster = filepath.Join(dir, "roster-{version}.yaml")
	tg.Team.Acks = filepath.Join(dir, "acks-{version}.jsonl")
	now := time.Now()
	r := preflightlab.Roster(tg.Version, tg.Webhook.Channel, now)
	if edit != nil {
		edit(r)
	}
	require.NoError(t, roster.Write(tg.Team.RosterFor(tg.Version), r))
	all := filepath.Join(dir, "all.jsonl")
	require.NoError(t, preflightlab.TeamAcks(all, r, now.Add(-time.Minute)))
	acks, err := roster.ReadAcks(all)
	require.NoError(t, err)
	for _, a := range acks {
		if drop == nil || !drop(a) {
			require.NoError(t, checklist.AppendAck(tg.Team.AcksFor(tg.Version), a))
		}
	}
}

func TestMonitoringAndAlertingFaults(t *testing.T) {
	localenv.RequireStarted(t, env)
	t.Run("dashboard answers 404", func(t *testing.T) {
		res := run(t, func(tg *target.Target) {
			tg.Prometheus.Dashboards = append(append([]string(nil), tgt.Prometheus.Dashboards...), tgt.Prometheus.URL+"/d/granter-errors")
		})
		checklist.AssertOnlyFails(t, res, monitoring.DashboardsPrepared, "1 of 3 dashboards do not answer 200", "/d/granter-errors", "404")
	})
	t.Run("no dashboard configured", func(t *testing.T) {
		res := run(t, func(tg *target.Target) { tg.Prometheus.Dashboards = nil })
		checklist.AssertOnlyFails(t, res, monitoring.DashboardsPrepared, "no dashboard configured (prometheus.dashboards")
	})
	t.Run("wrong threshold loaded", func(t *testing.T) {
		env.EditAlertRulesT(t, func(rules []map[string]any) []map[string]any {
			for _, r := range rules {
				if r["alert"] == metrics.AlertErrorRateWarning {
					expr := r["expr"].(string)
					r["expr"] = strings.TrimSuffix(expr, "0.001") + "0.005"
				}
			}
			return rules
		})
		res := run(t, nil)
		checklist.AssertOnlyFails(t, res, monitoring.ThresholdsSet, "alert rule GranterErrorRateWarning", "threshold 0.005 loaded, runbook says 0.001")
	})
	t.Run("on-call has not confirmed", func(t *testing.T) {
		res := run(t, func(tg *target.Target) {
			withRoster(t, tg, nil, func(a checklist.Ack) bool { return a.Sub == monitoring.OnCallReady })
		})
		checklist.AssertOnlyFails(t, res, monitoring.OnCallReady, "Alice Martin (alice) on call during the window has not confirmed",
			`-item 7 -sub "On-call staff ready" -by alice`)
	})
	t.Run("gap in the on-call cover", func(t *testing.T) {
		res := run(t, func(tg *target.Target) {
			withRoster(t, tg, func(r *roster.Roster) { r.OnCall[0].To = r.Window.End.Add(-2 * time.Hour) }, nil)
		})
		checklist.AssertOnlyFails(t, res, monitoring.OnCallReady, "nobody is on call from")
	})
	t.Run("no baseline traffic", func(t *testing.T) {
		// A window in which the services had no real request: wait until
		// Prometheus sees none over it.
		const window = 10 * time.Second
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		q := fmt.Sprintf(`sum(increase(http_requests_total{%s}[10s])) or vector(0)`, monitoring.UserTraffic)
		_, err := env.Prom.WaitValue(ctx, q, "== 0", func(v float64) bool { return v == 0 })
		require.NoError(t, err)
		res := run(t, nil, monitoring.WithBaselineWindow(window))
		checklist.AssertOnlyFails(t, res, monitoring.BaselineEstablished, "no error rate baseline: no data: 0 requests in 10s (need >= 100)",
			"fewer than 100 real requests in the last 10s")
	})
}

// The baseline is recorded in the run's journal.
func TestBaselineJournaled(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(dir, "preflight", tgt.Env, tgt.Redact)
	require.NoError(t, err)
	res := flow.Run(t.Context(), monitoring.New(tgt, monitoring.WithJournal(j)))
	require.NoError(t, j.Close())
	checklist.AssertAllPass(t, res)
	entries, err := journal.Read(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	e := entries[0]
	require.Equal(t, "error rate baseline established", e.Action)
	require.Equal(t, "1h0m0s", e.Data["window"])
	require.Equal(t, "1h0m0s", e.Data["baseline.window"])
	require.Less(t, e.Duration, time.Minute, "Duration is how long the check took, not the baseline window")
	require.WithinDuration(t, time.Now(), e.Started, time.Minute, "Started is when the check ran, not the window's start")
	require.NotEmpty(t, e.Data["requests"])
	require.Contains(t, e.Data["query"], monitoring.UserTraffic)
}
