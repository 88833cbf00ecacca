package deploy_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
	"github.com/granter/runbook/smoke"
)

// healthOnly is environments/staging.yaml with every service at base:
// Step 4.3 alone is run against it.
func healthOnly(t *testing.T, base string) *target.Target {
	t.Helper()
	vars := map[string]string{
		target.VersionEnv:              "v2.0.0",
		"RUNBOOK_STAGING_DATABASE_URL": "postgres://granter:x@127.0.0.1:1/granter_db?sslmode=disable",
		"RUNBOOK_STAGING_WEBHOOK_URL":  "http://127.0.0.1:1/hooks/x",
	}
	tg, err := target.LoadFile(filepath.Join("..", "environments", "staging.yaml"), func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	})
	require.NoError(t, err)
	for i := range tg.Services {
		tg.Services[i].URL = base
	}
	return tg
}

// failingHealth answers 503 to the first failures requests, then 200.
func failingHealth(t *testing.T, failures int32) string {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) <= failures {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unhealthy","services":{"database":"down","api":"up"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"healthy","services":{"database":"up","api":"up"},"version":"v2.0.0"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// runHealth runs Step 4.3 through deploy.Run with a journal, and returns
// the outcome, the journal, the output, and whether AUTO_ROLLBACK started
// the rollback (it refuses here, before changing anything: the test's run
// took no backup).
func runHealth(t *testing.T, tg *target.Target) (*deploy.Outcome, []journal.Entry, string, bool) {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(dir, "rule-test", tg.Env, tg.Redact)
	require.NoError(t, err)
	steps := deploy.Select(deploy.InProcessPhase4(tg, smoke.Options{}), phase4.HealthChecks.Step)
	require.Len(t, steps, 1)
	var out bytes.Buffer
	oc := deploy.Run(context.Background(), tg, "v2.0.0", steps, deploy.Options{Out: &out, Journal: j, RunDir: dir})
	require.NoError(t, j.Close())
	entries, err := journal.Read(dir)
	require.NoError(t, err)
	var after bytes.Buffer
	_, ran, err := rollback.AfterDeploy(context.Background(), tg, true, rollback.Options{RunDir: dir, Out: &after})
	if ran {
		var ec *exitcode.Error
		require.ErrorAs(t, err, &ec)
		require.Equal(t, exitcode.Refused, ec.Code, "the rollback of a run without a backup refuses: %v", err)
	} else {
		require.NoError(t, err)
	}
	return oc, entries, out.String() + after.String(), ran
}

func entry(t *testing.T, entries []journal.Entry, step string) journal.Entry {
	t.Helper()
	e, ok := journal.Last(entries, func(e journal.Entry) bool { return e.Step == step && e.Status != journal.StatusStarted })
	require.True(t, ok, "no journal entry for Step %s in %v", step, entries)
	return e
}

// Step 4.3 failing, and failing again on the immediate retry, is "core
// functionality broken": journaled, and the rollback rule fires on it.
func TestHealthFailingTwiceIsCoreBroken(t *testing.T) {
	tg := healthOnly(t, failingHealth(t, 1000))
	oc, entries, out, ran := runHealth(t, tg)
	assert.Equal(t, exitcode.Smoke, oc.Code, out)
	assert.True(t, ran, "AUTO_ROLLBACK must start the rollback: %s", out)
	e := entry(t, entries, phase4.HealthChecks.Step)
	assert.Contains(t, e.Data[journal.KeyCoreBroken], "503", "the journal names the broken check and its answer")
	d := rollback.DecideFromJournal(entries, tg.Thresholds)
	assert.True(t, d.Rollback, "the rule must fire on a health check failing twice: %s", d.Reason)
	assert.Contains(t, d.Reason, "core functionality broken: Step 4.3")
	assert.Contains(t, out, "running it again at once")
}

// Failing once and passing on the retry is intermittent: Step 4.3 passes
// with a warning, and the rule leaves it to Step 4.5's error rate.
func TestHealthFailingOnceIsNotCoreBroken(t *testing.T) {
	tg := healthOnly(t, failingHealth(t, 1))
	oc, entries, out, ran := runHealth(t, tg)
	assert.Equal(t, exitcode.OK, oc.Code, out)
	assert.False(t, ran)
	e := entry(t, entries, phase4.HealthChecks.Step)
	assert.Empty(t, e.Data[journal.KeyCoreBroken])
	assert.Equal(t, phase4.HealthChecks.Test, e.Data[journal.KeyCheckFlaky])
	d := rollback.DecideFromJournal(entries, tg.Thresholds)
	assert.False(t, d.Rollback, d.Reason)
}

// Nothing reachable from the runbook's host (a dial error to every
// service): no verdict on the release, exit code Inconclusive, no
// rollback even with AUTO_ROLLBACK, and the message says a person decides
// and gives the rollback command.
func TestRunbookSideIsInconclusive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	tg := healthOnly(t, "http://"+addr)
	oc, entries, out, ran := runHealth(t, tg)
	assert.Equal(t, exitcode.Inconclusive, oc.Code, out)
	assert.False(t, ran, "a failure on the runbook's side never starts a rollback: %s", out)
	e := entry(t, entries, phase4.HealthChecks.Step)
	assert.Equal(t, exitcode.Class(exitcode.Inconclusive), e.Data[journal.KeyClass])
	assert.NotEmpty(t, e.Data[journal.KeyInconclusive])
	assert.Empty(t, e.Data[journal.KeyCoreBroken])
	d := rollback.DecideFromJournal(entries, tg.Thresholds)
	assert.False(t, d.Rollback, d.Reason)
	assert.NotEmpty(t, d.Inconclusive)
	assert.Contains(t, out, "a person decides")
	assert.Contains(t, out, "make rollback ENV=staging")
	oc.WriteSummary(&bytes.Buffer{}, "")
	assert.Contains(t, oc.NextWhy, "INCONCLUSIVE")
}

// Step 4.1 when no smoke flow reaches the platform (a dial error on every
// request, twice): the runbook's side, not five broken flows.
func TestSmokeUnreachableIsInconclusive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	tg := healthOnly(t, "http://"+addr)
	dir := t.TempDir()
	j, err := journal.Open(dir, "rule-test", tg.Env, tg.Redact)
	require.NoError(t, err)
	steps := deploy.Select(deploy.InProcessPhase4(tg, smoke.Options{}), phase4.SmokeStep)
	require.Len(t, steps, 1)
	var out bytes.Buffer
	oc := deploy.Run(context.Background(), tg, "v2.0.0", steps, deploy.Options{Out: &out, Journal: j, RunDir: dir})
	require.NoError(t, j.Close())
	assert.Equal(t, exitcode.Inconclusive, oc.Code, out.String())
	entries, err := journal.Read(dir)
	require.NoError(t, err)
	e := entry(t, entries, phase4.SmokeStep)
	assert.Contains(t, e.Data[journal.KeySmokeFlows], "unreached")
	assert.NotContains(t, e.Data[journal.KeySmokeFlows], "failed")
	d := rollback.DecideFromJournal(entries, tg.Thresholds)
	assert.False(t, d.Rollback, d.Reason)
	assert.NotEmpty(t, d.Inconclusive)
}
