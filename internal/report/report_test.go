package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/report"
	"github.com/granter/runbook/internal/stats"
)

func evaluate(t *testing.T, dir string) report.Verdict {
	t.Helper()
	run, err := report.Load(dir, report.WithRedactor(targetRedact))
	require.NoError(t, err)
	return report.Evaluate(run)
}

func states(v report.Verdict) map[string]report.State {
	out := map[string]report.State{}
	for _, c := range v.Criteria {
		out[c.ID] = c.State
	}
	return out
}

func criterion(t *testing.T, v report.Verdict, id string) report.Criterion {
	t.Helper()
	for _, c := range v.Criteria {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no criterion %s", id)
	return report.Criterion{}
}

func markdown(t *testing.T, v report.Verdict) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.WriteMarkdown(&b, v))
	return b.String()
}

func TestHealthyRunIsApproved(t *testing.T) {
	f := newFixture(t, "prod")
	v := evaluate(t, f.run(runOpts{}))

	for _, c := range v.Criteria {
		assert.Equal(t, report.Met, c.State, "%d. %s: %s", c.N, c.Text, c.Summary)
		assert.NotEmpty(t, c.Evidence, c.Text)
	}
	require.Len(t, v.Criteria, 11, "the runbook has eleven success criteria")
	assert.True(t, v.Approved)
	assert.Equal(t, "GO-LIVE APPROVED", v.Headline())
	assert.Equal(t, exitcode.OK, v.ExitCode)
	assert.Empty(t, v.Failures)
	assert.Empty(t, v.Next.Command, "nothing to run when approved")

	deployed := criterion(t, v, "deployed")
	require.Len(t, deployed.Evidence, 3, "one line per service")
	assert.Contains(t, deployed.Evidence[0].Text, "backend-core: granter/backend-core:v1.9.0 → granter/backend-core:v2.0.0, rollout complete, 3/3 ready")
	assert.Contains(t, criterion(t, v, "error_rate").Evidence[0].Text, "error rate 0.02% (2/10,000), 95% upper bound")
	assert.Contains(t, criterion(t, v, "error_rate").Evidence[0].Text, `query: sum(rate(http_requests_total{status=~"5..",namespace="granter"}[5m]))`)
	assert.Contains(t, criterion(t, v, "migrations").Evidence[0].Text, "all 6 expected migrations (from journal) in success state")

	md := markdown(t, v)
	assert.True(t, strings.HasPrefix(md, "# Go-live report: 20260303-140000-prod\n\n## ✅ GO-LIVE APPROVED"), md[:200])
	assert.NotContains(t, md, "What blocks the go-live")
}

// The acceptance case: one smoke flow fails. NOT APPROVED, the criteria it
// breaks first with their evidence, the smoke exit code, and the rollback
// as the next command since the images and the database changed.
func TestOneFailedSmokeFlowIsNotApproved(t *testing.T) {
	f := newFixture(t, "prod")
	v := evaluate(t, f.run(runOpts{searchFails: true}))
	rollback := "make rollback ENV=prod CONFIRM=prod RUN=" + f.dir

	assert.False(t, v.Approved)
	assert.Equal(t, "NOT APPROVED", v.Headline())
	assert.Equal(t, exitcode.Smoke, v.ExitCode, "the exit code documented for smoke failures")

	got := states(v)
	for id, want := range map[string]report.State{"smoke": report.NotMet, "search": report.NotMet,
		"deployed": report.Met, "migrations": report.Met, "health": report.Met, "auth": report.Met,
		journal.KeyErrorRate: report.Met, "alerts": report.Met, "endpoints": report.Met, "sql": report.Met, "stable": report.Met} {
		assert.Equal(t, want, got[id], id)
	}

	blocking := v.Blocking()
	require.Len(t, blocking, 2)
	assert.Equal(t, "All 5 smoke tests passing", blocking[0].Text)
	assert.Equal(t, "Users can search grants", blocking[1].Text)
	evidence := "GET https://api.granter.example.com/search?category=research: result 3 has category culture, want research"
	assert.Contains(t, blocking[0].Summary, "smoke: TestSearch: FAILED: TestSearch/filter_category: "+evidence)
	assert.Contains(t, blocking[1].Summary, evidence)

	first := v.FirstFailure()
	require.NotNil(t, first)
	assert.Equal(t, "smoke: TestSearch/filter_category", first.Where)
	assert.Equal(t, evidence, first.Message)
	assert.Equal(t, exitcode.Smoke, first.Class)
	assert.Equal(t, rollback, v.Next.Command, "the rollback names this run")
	assert.Contains(t, v.Next.Why, "the database (migrations applied)")

	// In the Markdown: the verdict, then that criterion and its evidence,
	// before anything else.
	md := markdown(t, v)
	iVerdict := strings.Index(md, "## ❌ NOT APPROVED")
	iCriterion := strings.Index(md, "4. ❌ **All 5 smoke tests passing** — NOT MET")
	iEvidence := strings.Index(md, evidence)
	iTable := strings.Index(md, "## Success criteria")
	require.True(t, iVerdict >= 0 && iCriterion >= 0 && iEvidence >= 0 && iTable >= 0, md)
	assert.Less(t, iVerdict, iCriterion)
	assert.Less(t, iCriterion, iEvidence)
	assert.Less(t, iEvidence, iTable, "the evidence is at the top, not only in the table")
	assert.Contains(t, md, "Exit code **5** (smoke failed)")
	assert.Contains(t, md, "```\n"+rollback+"\n```")
}

// The deploy CLI stops at the failed gate: no postdeploy, no watch. What was
// not checked is NOT EVALUATED, loudly, and never counted as met.
func TestStoppedRunLeavesCriteriaNotEvaluated(t *testing.T) {
	f := newFixture(t, "prod")
	v := evaluate(t, f.run(runOpts{searchFails: true, stopAfter: "phase4"}))
	got := states(v)
	for _, id := range []string{"error_rate", "alerts", "endpoints", "sql", "stable"} {
		assert.Equal(t, report.NotEvaluated, got[id], id)
		c := criterion(t, v, id)
		assert.Contains(t, c.Summary, "no evidence: ", "says what would have been the evidence")
	}
	assert.Equal(t, exitcode.Smoke, v.ExitCode)
	md := markdown(t, v)
	assert.Contains(t, md, "11. ⚠ **Monitoring shows stable metrics** — NOT EVALUATED")
}

func TestMissingEvidenceIsNeverApproved(t *testing.T) {
	t.Run("no_watch", func(t *testing.T) {
		f := newFixture(t, "prod")
		v := evaluate(t, f.run(runOpts{noMonitor: true}))
		assert.Equal(t, report.NotEvaluated, states(v)["stable"])
		assert.False(t, v.Approved, "not evaluated is never met")
		assert.Empty(t, v.Failures)
		assert.Equal(t, exitcode.Internal, v.ExitCode, "nothing failed: the evidence is missing")
		assert.Equal(t, "make postdeploy ENV=prod", v.Next.Command)
	})
	t.Run("skipped_smoke_step", func(t *testing.T) {
		f := newFixture(t, "prod")
		v := evaluate(t, f.run(runOpts{skipIAOutage: true}))
		c := criterion(t, v, "smoke")
		assert.Equal(t, report.NotEvaluated, c.State, "a skipped step is not a pass")
		assert.Contains(t, c.Summary, "smoke: TestIA/fallback_when_provider_fails: SKIPPED, not passed: the target has no switch")
		assert.False(t, v.Approved)
	})
	t.Run("declared_not_applicable_step", func(t *testing.T) {
		f := newFixture(t, "prod")
		v := evaluate(t, f.run(runOpts{iaOutageNotApplicable: true}))
		c := criterion(t, v, "smoke")
		assert.Equal(t, report.Met, c.State, "a step the target's file declares not applicable does not block")
		assert.Contains(t, c.Summary, "smoke: TestIA: NOT APPLICABLE on prod (declared in environments/prod.yaml): no outage switch; verified elsewhere: make rehearse")
		assert.True(t, v.Approved, v.Blocking())
	})
	t.Run("dry_run", func(t *testing.T) {
		f := newFixture(t, "staging")
		for _, s := range []string{"1.1", "2.1", "3.1"} {
			f.step(journal.Phase("phase"+s[:1]), s, "would do "+s, journal.StatusDryRun, 0, map[string]string{journal.KeyDeployment: "backend-core", journal.KeyImageAfter: "x:v2", journal.KeyRollout: "complete"})
		}
		v := evaluate(t, f.dir)
		assert.False(t, v.Approved)
		assert.Equal(t, 0, v.Count(report.Met), "a dry run proves nothing")
		assert.Equal(t, 0, v.Count(report.NotMet), "nor does it fail anything")
		assert.Contains(t, criterion(t, v, "deployed").Summary, "recorded only dry-run steps")
	})
	t.Run("started_markers", func(t *testing.T) {
		f := newFixture(t, "prod")
		f.run(runOpts{})
		// A "started" marker closed by its final entry changes nothing...
		f.step("phase4", "4.6", "extra check", journal.StatusStarted, 0, nil)
		f.step("phase4", "4.6", "extra check", journal.StatusOK, 1e9, nil)
		v := evaluate(t, f.dir)
		assert.True(t, v.Approved, "%+v", v.Failures)
		// ...one never closed means the run died in that step.
		f.step("monitor", "round 6", "watch metrics", journal.StatusStarted, 0, nil)
		v = evaluate(t, f.dir)
		assert.False(t, v.Approved)
		require.NotNil(t, v.FirstFailure())
		assert.Contains(t, v.FirstFailure().Message, "started and never finished")
		assert.Equal(t, exitcode.SLO, v.ExitCode)
	})
	t.Run("empty_folder", func(t *testing.T) {
		_, err := report.Load(t.TempDir())
		var le *report.LoadError
		require.ErrorAs(t, err, &le)
		assert.Contains(t, err.Error(), "holds neither journal.jsonl nor any <gate>.json")
	})
}

// An unreadable <gate>.json hides that gate's results, a failure among
// them perhaps: it is a warning in the report and it blocks approval.
func TestUnreadableGateFileIsNeverApproved(t *testing.T) {
	f := newFixture(t, "prod")
	dir := f.run(runOpts{})
	require.True(t, evaluate(t, dir).Approved, "the healthy run is approved before the gate file is broken")
	bad := filepath.Join(dir, "rollback.json")
	require.NoError(t, os.WriteFile(bad, []byte("{\"Action\": not json\n"), 0o644))

	v := evaluate(t, dir)
	assert.False(t, v.Approved)
	assert.Equal(t, "NOT APPROVED", v.Headline())
	require.Len(t, v.Run.GateErrors, 1)
	assert.Contains(t, v.Run.GateErrors[0], bad)
	found := false
	for _, r := range v.Reasons {
		found = found || (strings.Contains(r, bad) && strings.Contains(r, "invalid character"))
	}
	assert.True(t, found, "a reason names the file and the error: %q", v.Reasons)
	assert.NotEqual(t, exitcode.OK, v.ExitCode)
}

func TestSLOBreaches(t *testing.T) {
	t.Run("error_rate", func(t *testing.T) {
		f := newFixture(t, "prod")
		v := evaluate(t, f.run(runOpts{errorRate: "0.52%"}))
		c := criterion(t, v, "error_rate")
		assert.Equal(t, report.NotMet, c.State)
		assert.Contains(t, c.Summary, "error rate 0.52% (52/10,000), 95% lower bound")
		assert.Contains(t, c.Summary, "> 0.1%: BREACHED (query: sum(rate(http_requests_total{status=~\"5..\"")
		assert.Contains(t, c.Summary, "window: 5m")
		assert.Equal(t, exitcode.SLO, v.ExitCode)
		assert.Equal(t, "Step 4.5 (phase4)", v.FirstFailure().Where)
	})
	t.Run("latency", func(t *testing.T) {
		f := newFixture(t, "prod")
		v := evaluate(t, f.run(runOpts{p95: "250ms"}))
		c := criterion(t, v, "stable")
		assert.Equal(t, report.NotMet, c.State)
		assert.Contains(t, c.Summary, "p95 250ms >= 200ms")
		found := false
		for _, e := range c.Evidence {
			found = found || e.Text == "p95 250ms, want < 200ms"
		}
		assert.True(t, found, "every round over the threshold is evidence: %+v", c.Evidence)
		assert.Equal(t, exitcode.SLO, v.ExitCode)
	})
}

// The monitor may print thresholds as it shows them ("< 0.1%", "< 200ms")
// and values in their unit (seconds); a round marked ok with a value over
// its threshold is still caught.
func TestThresholdFormats(t *testing.T) {
	f := newFixture(t, "prod")
	f.run(runOpts{})
	f.step("monitor", "round 6", "watch metrics", journal.StatusOK, 1e9, map[string]string{
		journal.KeyErrorRate: "0.0004", journal.KeyErrorRateThreshold: "< 0.1%", journal.KeyErrorRateErrors: "4", journal.KeyErrorRateRequests: "10000",
		"p95": "0.231", "p95.threshold": "< 200ms", "cpu": "n/a", "cpu.threshold": "< 70%",
		journal.KeyAlertsCritical: "0", "alerts.critical.threshold": "< 1"})
	v := evaluate(t, f.dir)
	assert.Equal(t, report.Met, states(v)["error_rate"], criterion(t, v, "error_rate").Summary)
	assert.Equal(t, report.Met, states(v)["alerts"])
	stable := criterion(t, v, "stable")
	assert.Equal(t, report.NotMet, stable.State)
	assert.Equal(t, "journal monitor step round 6: p95 0.231, want < 200ms", stable.Summary)
}

func TestFailureClassesAndNextCommand(t *testing.T) {
	t.Run("preflight_blocker", func(t *testing.T) {
		f := newFixture(t, "prod")
		f.step("preflight", "1", "full backup taken", journal.StatusFailed, 2e9, map[string]string{"error": "pg_dump: connection refused"})
		v := evaluate(t, f.dir)
		assert.Equal(t, exitcode.Preflight, v.ExitCode)
		assert.Equal(t, "make preflight ENV=prod", v.Next.Command, "nothing changed: rerun, no rollback")
	})
	t.Run("rollout_failed", func(t *testing.T) {
		f := newFixture(t, "prod")
		f.step("phase2", "2.1", "run pending migrations", journal.StatusOK, 6e10, map[string]string{journal.KeyMigrationsNew: "20260128001000"})
		f.step("phase3", "3.1", "set image of backend-core", journal.StatusOK, 5e9, map[string]string{journal.KeyDeployment: "backend-core", journal.KeyImageAfter: "granter/backend-core:v2.0.0"})
		f.step("phase3", "3.2", "wait for the rollout of backend-core", journal.StatusFailed, 3e11, map[string]string{journal.KeyDeployment: "backend-core",
			"error": "deployment backend-core: 1/3 ready after 5m, condition Progressing=False (ProgressDeadlineExceeded): pod backend-core-7d9f: CrashLoopBackOff"},
			"kubectl rollout status deployment/backend-core --timeout=5m")
		v := evaluate(t, f.dir)
		assert.Equal(t, exitcode.Deploy, v.ExitCode)
		assert.Equal(t, report.NotMet, states(v)["deployed"])
		assert.Contains(t, criterion(t, v, "deployed").Summary, "condition Progressing=False (ProgressDeadlineExceeded)")
		assert.Equal(t, "make rollback ENV=prod CONFIRM=prod RUN="+f.dir, v.Next.Command)
		assert.Equal(t, "kubectl rollout status deployment/backend-core --timeout=5m", v.Next.Manual)
	})
	t.Run("migrations_failed_after_applying_some", func(t *testing.T) {
		f := newFixture(t, "prod")
		f.step("phase2", "2.1", "run pending migrations", journal.StatusFailed, 6e10, map[string]string{
			journal.KeyMigrationsNew: "20260127000050,20260127000100", "error": "migration 20260127000200: relation grants_v2 already exists"},
			"npm run migration:run")
		v := evaluate(t, f.dir)
		assert.Equal(t, exitcode.Deploy, v.ExitCode)
		assert.Equal(t, "make rollback ENV=prod CONFIRM=prod RUN="+f.dir, v.Next.Command, "two migrations were applied before the failure: the way back is the rollback")
		assert.Contains(t, v.Next.Why, "the database (migrations applied)")
	})
	t.Run("migrations_failed_before_applying_any", func(t *testing.T) {
		f := newFixture(t, "prod")
		f.step("phase2", "2.1", "run pending migrations", journal.StatusFailed, 6e10, map[string]string{"error": "connection refused"}, "npm run migration:run")
		v := evaluate(t, f.dir)
		assert.True(t, strings.HasPrefix(v.Next.Command, "make deploy ENV=prod "), "nothing was applied: no rollback, got %q", v.Next.Command)
	})
	t.Run("set_image_failed_after_setting_it", func(t *testing.T) {
		f := newFixture(t, "prod")
		f.step("phase3", "3.1", "set image of backend-core", journal.StatusFailed, 5e9, map[string]string{
			journal.KeyDeployment: "backend-core", journal.KeyImageAfter: "granter/backend-core:v2.0.0", "error": "restoring replicas: conflict"})
		v := evaluate(t, f.dir)
		assert.Equal(t, "make rollback ENV=prod CONFIRM=prod RUN="+f.dir, v.Next.Command)
		assert.Contains(t, v.Next.Why, "the images of backend-core")
	})
	t.Run("rollback_failed", func(t *testing.T) {
		f := newFixture(t, "prod")
		f.step("phase4", "4.5", "monitor error rate", journal.StatusFailed, 6e10, map[string]string{journal.KeyErrorRate: "0.03", "error": "error rate 3% > 1%: rollback trigger"})
		f.step("rollback", "3", "restore the database", journal.StatusFailed, 6e10, map[string]string{"error": "pg_restore: checksum mismatch"}, "psql granter_db < backup.sql")
		v := evaluate(t, f.dir)
		assert.Equal(t, exitcode.Rollback, v.ExitCode, "a failed rollback outranks what caused it")
		assert.True(t, v.RolledBack)
		assert.Contains(t, v.Next.Why, "escalate")
	})
	t.Run("configuration", func(t *testing.T) {
		f := newFixture(t, "prod")
		g := f.gate("github.com/granter/runbook/smoke")
		g.ev("output", "", "runbook: the target configuration is not usable (environments/prod.yaml):\n", 0)
		g.ev("output", "", "  database.urlEnv: RUNBOOK_PROD_DATABASE_URL is not set\n", 0)
		g.fail = true
		g.write("smoke")
		v := evaluate(t, f.dir)
		assert.Equal(t, exitcode.Config, v.ExitCode)
		assert.Contains(t, v.FirstFailure().Message, "RUNBOOK_PROD_DATABASE_URL is not set")
	})
}

func TestTimeline(t *testing.T) {
	f := newFixture(t, "prod")
	v := evaluate(t, f.run(runOpts{phase3Overrun: true}))
	rows := map[journal.Phase]report.PhaseRow{}
	for _, r := range v.Timeline {
		rows[r.Phase] = r
	}
	require.Len(t, v.Timeline, 6, "checklist, phases 1-4, monitoring; no rollback row without a rollback")
	assert.False(t, rows["preflight"].Ran, "this run did not record the checklist")
	p1 := rows["phase1"]
	assert.True(t, p1.Ran)
	assert.Equal(t, "1h0m0s", p1.ActualStart.String(), "the first phase that ran is aligned with its planned start (14:00)")
	assert.Equal(t, "14:00–14:15", p1.PlannedClock())
	assert.Equal(t, "14:00:03–14:05:33 UTC", p1.ActualClock())
	assert.False(t, p1.Overrun)
	p3 := rows["phase3"]
	assert.True(t, p3.Overrun, "three rollouts of 8 minutes overrun the 15 planned: took %s", p3.ActualDuration())
	assert.Equal(t, "ok", p3.Status)
	assert.Equal(t, "ok", rows["phase4"].Status)
}

func TestSecretsNeverAppear(t *testing.T) {
	f := newFixture(t, "prod")
	dir := f.run(runOpts{searchFails: true})
	raw, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	require.NoError(t, err)
	require.Contains(t, string(raw), planted, "the fixture plants the secret in the journal")

	var stdout, stderr bytes.Buffer
	code := report.MainWith([]string{dir}, &stdout, &stderr, targetRedact)
	require.Equal(t, exitcode.Smoke, code, stderr.String())
	for _, name := range []string{"report.md", "report.html"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.NotContains(t, string(b), planted, name)
		assert.NotContains(t, string(b), plantedWebhook, name)
		assert.Contains(t, string(b), "[REDACTED", name)
	}
	assert.NotContains(t, stdout.String(), planted)
}

func TestRedactCommon(t *testing.T) {
	for in, want := range map[string]string{
		"dial postgres://granter:s3cr3t-pw@db:5432/granter_db failed":  "dial postgres://granter:[REDACTED]@db:5432/granter_db failed",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc":           "Authorization: Bearer [REDACTED]",
		"GET /cb?token=abcdef123&page=2":                               "GET /cb?token=[REDACTED]&page=2",
		`{"email":"a@b.c","password":"hunter2!"}`:                      `{"email":"a@b.c","password":"[REDACTED]"}`,
		"saw 200, bearer token (3 parts)":                              "saw 200, bearer token (3 parts)",
		"GET /auth/me with a bearer token: 200 user data":              "GET /auth/me with a bearer token: 200 user data",
		"export RUNBOOK_TOKEN=abc123xyz":                               "export RUNBOOK_TOKEN=[REDACTED]",
		"curl -H \"Authorization: Bearer {token}\" http://api/auth/me": "curl -H \"Authorization: Bearer {token}\" http://api/auth/me",
	} {
		assert.Equal(t, want, report.RedactCommon(in), in)
	}
}

// Step 4.5's claim is decided again from the counts: 0 errors in 294
// requests cannot show < 0.1% (the 95% upper bound is 1%), and a ratio
// without its counts proves nothing.
func TestErrorRateDecidedFromCounts(t *testing.T) {
	for name, tc := range map[string]struct {
		data map[string]string
		want report.State
		text string
	}{
		"0 in 294 is inconclusive": {journal.RateData(stats.UnderThreshold(0, 294, 0.001)), report.NotEvaluated, "(0/294), 95% upper bound 1.01% ≥ 0.1%: INCONCLUSIVE"},
		"0 in 3,500 is met":        {journal.RateData(stats.UnderThreshold(0, 3500, 0.001)), report.Met, "MET"},
		"6 in 1,000 is not met":    {journal.RateData(stats.UnderThreshold(6, 1000, 0.001)), report.NotMet, "BREACHED"},
		"a ratio alone":            {map[string]string{journal.KeyErrorRate: "0", journal.KeyErrorRateThreshold: "0.001"}, report.NotEvaluated, "without its counts"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, "prod")
			f.step("phase4", "4.5", "monitor error rate", journal.StatusOK, 1e9, tc.data)
			v := evaluate(t, f.dir)
			c := criterion(t, v, "error_rate")
			assert.Equal(t, tc.want, c.State, c.Summary)
			var texts []string
			for _, e := range c.Evidence {
				texts = append(texts, e.Text)
			}
			assert.Contains(t, strings.Join(texts, "\n"), tc.text)
		})
	}
}

// Criterion 11 needs the runbook's whole watch. A compressed watch on a
// target that is not a rehearsal shows nothing; on a rehearsal target it
// counts, and the verdict says REHEARSAL PASSED, never GO-LIVE APPROVED.
func TestCompressedWatch(t *testing.T) {
	t.Run("full_watch_approves", func(t *testing.T) {
		v := evaluate(t, newFixture(t, "prod").run(runOpts{}))
		assert.True(t, v.Approved, v.Blocking())
		assert.Equal(t, "GO-LIVE APPROVED", v.Headline())
	})
	t.Run("compressed_on_prod", func(t *testing.T) {
		v := evaluate(t, newFixture(t, "prod").run(runOpts{watched: "1m0s"}))
		c := criterion(t, v, "stable")
		assert.Equal(t, report.NotEvaluated, c.State)
		assert.Contains(t, c.Summary, "watched 1m0s, shorter than the runbook's 4h0m0s, on a target that is not a rehearsal")
		assert.False(t, v.Passed())
		assert.Equal(t, "NOT APPROVED", v.Headline())
	})
	t.Run("compressed_rehearsal", func(t *testing.T) {
		v := evaluate(t, newFixture(t, "local").run(runOpts{watched: "1m0s", rehearsal: true}))
		assert.Equal(t, report.Met, criterion(t, v, "stable").State)
		assert.False(t, v.Approved, "a rehearsal is never a go-live approval")
		assert.True(t, v.RehearsalPassed, v.Blocking())
		assert.Equal(t, "REHEARSAL PASSED (not a go-live approval)", v.Headline())
		assert.Equal(t, exitcode.OK, v.ExitCode)
		assert.Contains(t, v.Next.Why, "the 4-hour watch was compressed to 1m0s on a rehearsal target")
		var md strings.Builder
		require.NoError(t, report.WriteMarkdown(&md, v))
		assert.Contains(t, md.String(), "## ✅ REHEARSAL PASSED (not a go-live approval)")
		assert.NotContains(t, md.String(), "GO-LIVE APPROVED\n")
	})
}
