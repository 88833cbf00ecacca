//go:build !staging && !prod

package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/fixtures/faults"
	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/fixtures/prom"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/report"
	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
	"github.com/granter/runbook/smoke"
)

// The live tests run in this order against the one platform; each leaves
// it at v1.9.0 again (reset).

// The whole runbook from v1.9.0 to v2.0.0: migrations applied, images
// updated, services restarted at v2.0.0, backend-core's replicas restored,
// the team told, and a journal with every step and its duration. The
// migration command is wrapped to print the database URL it was given,
// as a careless migrator would: no secret may reach any output.
func TestDeployV190ToV200(t *testing.T) {
	t.Cleanup(func() { reset(t) })
	script := filepath.Join(t.TempDir(), "careless-migrator")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho \"connecting to $DATABASE_URL\"\nexec "+migrator+" \"$@\"\n"), 0o700))
	saved := tgt.Migrations.Command
	tgt.Migrations.Command = []string{script, "migrate", "run"}
	t.Cleanup(func() { tgt.Migrations.Command = saved })

	res := deployV2(t, runOpts{})
	require.Nil(t, res.oc.Failed, "the deployment must succeed")
	assert.Equal(t, exitcode.OK, res.oc.Code)
	ctx := context.Background()

	// The gates ran in this process and left the evidence make deploy's
	// child go test runs used to leave, for the report and CI.
	t.Run("evidence_as_go_test_wrote_it", func(t *testing.T) {
		for gate, tests := range map[string][]string{"smoke": phase4.FlowTests(), "postdeploy": phase4.CheckTests()} {
			got, err := gotestjson.ReadFile(filepath.Join(res.dir, gate+".json"))
			require.NoError(t, err, gate)
			for _, name := range tests {
				tr := got.Test(name)
				if assert.NotNil(t, tr, "%s.json has no %s", gate, name) {
					assert.Equal(t, gotestjson.Passed, tr.Status, "%s.json: %s: %s", gate, name, tr.Message())
				}
			}
			assert.FileExists(t, filepath.Join(res.dir, gate+".junit.xml"))
		}
	})

	t.Run("images_v2.0.0", func(t *testing.T) {
		for d, im := range images(t) {
			assert.Equal(t, "granter/"+d+":"+granter.V2, im, d)
		}
	})
	t.Run("services_answer_v2.0.0", func(t *testing.T) {
		for _, s := range tgt.Services {
			v, up := env.Platform.Running(s.Name)
			assert.True(t, up, s.Name)
			assert.Equal(t, granter.V2, v, s.Name)
			cl, err := httpcheck.ForService(tgt, s.Name)
			require.NoError(t, err)
			var body struct{ Status, Version string }
			_, err = cl.GetJSON(ctx, "/health", http.StatusOK, &body)
			require.NoError(t, err)
			assert.Equal(t, granter.V2, body.Version, s.Name)
		}
	})
	t.Run("backend-core_replicas_restored", func(t *testing.T) {
		sc, err := env.Cluster.Clientset.AppsV1().Deployments(env.Namespace).GetScale(ctx, target.BackendCore, metav1.GetOptions{})
		require.NoError(t, err)
		assert.EqualValues(t, 2, sc.Spec.Replicas)
		assert.Contains(t, res.out, "runbook gap: Step 1.3 scaled backend-core to 0 and Phase 3 never scales it back; restoring the 2 replicas")
	})
	t.Run("migrations_applied", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
		require.NoError(t, err)
		defer conn.Close(ctx)
		var ids []string
		rows, err := conn.Query(ctx, "SELECT timestamp::text FROM migrations ORDER BY id")
		require.NoError(t, err)
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		for _, want := range tgt.Migrations.Expected {
			assert.Contains(t, ids, want)
		}
	})
	t.Run("team_notified", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := env.Webhook.WaitFor(wctx, "Starting local deployment of Granter v2.0.0")
		assert.NoError(t, err)
	})
	t.Run("journal_lists_every_step_with_its_duration", func(t *testing.T) {
		var want []string
		for _, s := range deploy.Plan(tgt, granter.V2, deploy.Gates{Preflight: passingPreflight, Phase4: deploy.InProcessPhase4(tgt, smoke.Options{})}) {
			want = append(want, string(s.Phase)+"/"+s.ID+"/ok")
		}
		assert.Equal(t, want, stepIDs(res.events))
		started := map[string]bool{}
		for _, e := range res.events {
			if e.Status == journal.StatusStarted {
				started[string(e.Phase)+"/"+e.Step] = true
				continue
			}
			assert.Positive(t, e.Duration, "%s %s has no duration", e.Step, e.Action)
			assert.False(t, e.Started.IsZero(), "%s has no start", e.Step)
		}
		for _, s := range deploy.Plan(tgt, granter.V2, deploy.Gates{Preflight: passingPreflight}) {
			if s.Changes != deploy.ChangesNothing {
				assert.True(t, started[string(s.Phase)+"/"+s.ID], "%s changes %s but journaled no \"started\" entry before acting", s.Label(), s.Changes)
			}
		}
		// byStep reads the entries that ended a step ("started" entries,
		// which carry the same keys before the step acts, are left out).
		byStep := func(phase journal.Phase, step, key string) []string {
			var out []string
			for _, e := range res.events {
				if e.Phase == phase && e.Step == step && e.Data[key] != "" && e.Status != journal.StatusStarted {
					out = append(out, e.Data[key])
				}
			}
			return out
		}
		assert.NotEmpty(t, byStep("phase1", "1.1", "backup.sha256"))
		assert.NotEmpty(t, byStep("phase1", "1.1", "backup.file"))
		assert.Equal(t, []string{"2"}, byStep("phase1", "1.3", "replicas.before"))
		assert.Equal(t, []string{"granter/backend-core:v1.9.0"}, byStep("phase3", "3.1", "image.before"))
		assert.Equal(t, []string{"granter/backend-core:v2.0.0"}, byStep("phase3", "3.1", "image.after"))
		assert.Equal(t, []string{strings.Join(tgt.Migrations.Expected, ",")}, byStep("phase2", "2.1", "migrations.new"))
		assert.NotEmpty(t, byStep("phase4", "4.5", "error_rate"))
		assert.NotEmpty(t, byStep("phase4", "4.5", "error_rate.query"))
	})
	t.Run("phase_durations_against_windows", func(t *testing.T) {
		for _, w := range []string{"Phase 1: Pre-Deployment", "14:00-14:15", "14:15-14:25", "14:25-14:40", "14:40-15:00", "✅ within"} {
			assert.Contains(t, res.out, w)
		}
		assert.Len(t, res.oc.Phases, 5)
	})
	t.Run("no_secret_in_outputs", func(t *testing.T) {
		u, err := url.Parse(tgt.Database.URL.Reveal())
		require.NoError(t, err)
		password, _ := u.User.Password()
		require.GreaterOrEqual(t, len(password), 8, "the planted database password")
		secrets := map[string]string{"database password": password, "database URL": tgt.Database.URL.Reveal(), "webhook URL": tgt.Webhook.URL.Reveal()}
		require.Contains(t, res.out, "connecting to [REDACTED:", "the careless migrator's line must be there, redacted")

		var stdout, stderr bytes.Buffer
		code := report.MainWith([]string{res.dir}, &stdout, &stderr, tgt.Redact)
		t.Logf("report (exit %d):\n%s%s", code, stdout.String(), stderr.String())
		outputs := map[string]string{"the deploy output": res.out, "the report's output": stdout.String() + stderr.String()}
		require.NoError(t, filepath.Walk(res.dir, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || strings.HasSuffix(p, ".dump") {
				return err
			}
			b, err := os.ReadFile(p)
			outputs[strings.TrimPrefix(p, res.dir+"/")] = string(b)
			return err
		}))
		require.Contains(t, outputs, "journal.jsonl")
		require.Contains(t, outputs, "report.md")
		require.Contains(t, outputs, "report.html")
		for where, text := range outputs {
			for what, secret := range secrets {
				assert.NotContains(t, text, secret, "the %s is in %s", what, where)
			}
		}
	})
}

// A failing checklist item stops everything before Phase 1: nothing is
// changed, and the next command is the checklist again.
func TestPreflightBlockerStopsTheSequence(t *testing.T) {
	blocker := []deploy.Step{{
		Phase: "preflight", ID: "checklist", Title: "Pre-deployment checklist", Class: exitcode.Preflight,
		Run: func(ctx context.Context, s *deploy.State, r *deploy.Record) error {
			return errors.New("1 checklist sub-items block (Status: BLOCKED):\n  4. Final Code Verification / No uncommitted changes: FAILED: the checkout has uncommitted changes: M package.json")
		},
	}}
	before := images(t)
	res := deployV2(t, runOpts{preflight: blocker})
	requireStopped(t, res, "checklist", exitcode.Preflight, "No uncommitted changes", "uncommitted changes: M package.json")
	assert.Equal(t, []string{"preflight/checklist/failed"}, stepIDs(res.events), "no step after the checklist may run")
	assert.Equal(t, before, images(t))
	assert.Contains(t, res.out, "changed: nothing on the target")
	assert.Contains(t, res.out, "next:    make preflight ENV=local")
	assert.NotContains(t, res.out, "make rollback")
}

// A migration that fails stops the sequence at Step 2.1, names the
// migration, and, since some were applied, says to roll back.
func TestFailedMigrationStopsTheSequence(t *testing.T) {
	t.Cleanup(func() { reset(t) })
	res := deployV2(t, runOpts{migratorEnv: []string{"GRANTER_FAULTS=" + faults.PlatformMigrationFails}})
	requireStopped(t, res, "2.1", exitcode.Deploy, "20260127000300", "migrations applied by it before it stopped: 20260127000050, 20260127000100, 20260127000200")
	assert.Contains(t, res.out, "next:    make rollback ENV=local")
	assert.Contains(t, res.out, "the database (Step 2.1 ran the migrations: 20260127000050,20260127000100,20260127000200 applied)")
	for d, im := range images(t) {
		assert.Equal(t, "granter/"+d+":"+granter.V1, im, "Phase 3 must not have run")
	}
}

// A rollout that never becomes ready (pods never pass readiness, a short
// progress deadline) stops the sequence at Step 3.2 with the condition and
// the pods' state.
func TestRolloutNeverReadyStopsTheSequence(t *testing.T) {
	t.Cleanup(func() { reset(t) })
	res := deployV2(t, runOpts{before: map[string]func(context.Context) error{
		"3.1": func(ctx context.Context) error {
			if err := setProgressDeadline(ctx, target.BackendCore, 8); err != nil {
				return err
			}
			return kubelab.SetFault(ctx, env.Cluster.Clientset, env.Namespace, target.BackendCore, kubelab.FaultNeverReady)
		},
	}})
	requireStopped(t, res, "3.2", exitcode.Deploy, "deployment granter/backend-core", "ProgressDeadlineExceeded")
	assert.Contains(t, res.out, "next:    make rollback ENV=local")
	assert.Contains(t, res.out, "the images of backend-core granter/backend-core:v1.9.0 -> granter/backend-core:v2.0.0")
	im := images(t)
	assert.Equal(t, "granter/data-service:"+granter.V1, im[target.DataService], "data-service must not be touched")
}

// A failing smoke flow stops the sequence at Step 4.1, naming the flow and
// the step.
func TestFailingSmokeFlowStopsTheSequence(t *testing.T) {
	t.Cleanup(func() { reset(t) })
	require.NoError(t, env.Platform.Faults.Enable(faults.AuthLoginRejects))
	res := deployV2(t, runOpts{})
	requireStopped(t, res, "4.1", exitcode.Smoke, "auth/login", "/auth/login: status 401, want 200")
	assert.Contains(t, res.out, "next:    make rollback ENV=local")
	// smoke.json says which step failed and why, as go test would have.
	got, err := gotestjson.ReadFile(filepath.Join(res.dir, "smoke.json"))
	require.NoError(t, err)
	login := got.Test(phase4.Auth.Test + "/login")
	require.NotNil(t, login, "smoke.json has no TestAuth/login")
	assert.Equal(t, gotestjson.Failed, login.Status)
	assert.Contains(t, login.Message(), "status 401, want 200")
	_, err = os.Stat(filepath.Join(res.dir, "smoke.retry.json"))
	assert.NoError(t, err, "the immediate retry of the failed flow is recorded too")
}

// ERROR lines in the logs of the new version stop the sequence at Step 4.2.
func TestLogErrorsStopTheSequence(t *testing.T) {
	t.Cleanup(func() { reset(t) })
	require.NoError(t, env.Platform.Faults.Enable(faults.PlatformLogErrors))
	res := deployV2(t, runOpts{})
	requireStopped(t, res, "4.2", exitcode.SLO, "TestLogs", "ERROR-level log lines", "unhandled exception in request pipeline")
	assert.Contains(t, res.out, "next:    make rollback ENV=local")
	// The failure does not hide the rest of Phase 4's evidence: the error
	// rate is still measured, from its counts.
	i := slices.IndexFunc(res.events, func(e journal.Entry) bool { return e.Step == "4.5" && e.Data[journal.KeyErrorRateRequests] != "" })
	require.GreaterOrEqual(t, i, 0, "Step 4.5 ran after 4.2 failed, with its counts: %v", stepIDs(res.events))
}

// Releases that fail intermittently, as real regressions do: a random 0.5%
// of requests breaks "error rate < 0.1%" (an SLO breach, exit 6) but not
// the rollback rule (> 1%, shown on the lower bound); a random 1.5% breaks
// both, and AUTO_ROLLBACK=1 rolls it back, as make deploy does.
func TestIntermittentErrors(t *testing.T) {
	t.Run("0.5% is an SLO breach, not a rollback", func(t *testing.T) {
		t.Cleanup(func() { reset(t) })
		res := deployV2(t, runOpts{version: granter.V202})
		require.NotNil(t, res.oc.Failed, "a release failing 0.5%% of requests must not pass Phase 4")
		assert.Equal(t, exitcode.SLO, res.oc.Code, "exit code: %v", res.oc.Failed.Err)
		rate := requireRate(t, res, stats.Breached)
		d := rollback.DecideFromJournal(res.events, tgt.Thresholds)
		assert.False(t, d.Rollback, "0.5%% is no rollback: %s (Step 4.5: %s)", d.Reason, rate)
		assert.Contains(t, d.Reason, "rollback trigger not met")
	})
	t.Run("1.5% is rolled back", func(t *testing.T) {
		t.Cleanup(func() { reset(t) })
		res := deployV2(t, runOpts{version: granter.V203})
		require.NotNil(t, res.oc.Failed)
		requireRate(t, res, stats.Breached)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var out strings.Builder
		d, ran, err := rollback.AfterDeploy(ctx, tgt, true, rollback.Options{RunDir: res.dir, Out: &out, Smoke: smoke.Options{AIProviderOutage: aiOutage}})
		t.Log(out.String())
		require.True(t, d.Rollback, "the rule must fire on 1.5%%: %s", d.Reason)
		assert.Contains(t, d.Reason, "95% lower bound")
		require.True(t, ran, "AUTO_ROLLBACK=1 runs the rollback")
		require.NoError(t, err)
		for _, svc := range kubelab.Deployments {
			waitVersion(t, ctx, svc, granter.V1)
		}
	})
}

// requireRate finds Step 4.5's journaled counts and checks its verdict.
func requireRate(t *testing.T, res result, want stats.Verdict) stats.Result {
	t.Helper()
	i := slices.IndexFunc(res.events, func(e journal.Entry) bool { return e.Step == "4.5" && e.Data[journal.KeyErrorRateRequests] != "" })
	require.GreaterOrEqual(t, i, 0, "Step 4.5 measured the error rate: %v", stepIDs(res.events))
	x, n, ok := journal.RateCounts(res.events[i].Data)
	require.True(t, ok)
	r := stats.UnderThreshold(x, n, tgt.Thresholds.ErrorRate)
	assert.Equal(t, want, r.Verdict, "Step 4.5: %s", r)
	return r
}

// An error rate above 0.1% stops the sequence at Step 4.5. The fault
// starts after the smoke flows (which it would otherwise break first):
// users then hit a data-service that fails every 20th request (1,000
// requests: enough to show the rate over 0.1% on its lower bound).
func TestErrorRateAboveThresholdStopsTheSequence(t *testing.T) {
	t.Cleanup(func() { reset(t) })
	res := deployV2(t, runOpts{before: map[string]func(context.Context) error{
		"4.5": func(ctx context.Context) error {
			if err := env.Platform.Faults.Enable(faults.PlatformErrorRate5pct + "@" + target.DataService); err != nil {
				return err
			}
			return prom.DataServiceUsers(ctx, tgt, 1000, 40)
		},
	}})
	requireStopped(t, res, "4.5", exitcode.SLO, "TestErrorRate", "95% lower bound", "> 0.1%: BREACHED")
	assert.Contains(t, res.out, "next:    make rollback ENV=local")
}

// requireStopped: the run stopped at step with code, the cause in the
// error and the output, the journal ending with that step failed.
func requireStopped(t *testing.T, res result, step string, code int, causes ...string) {
	t.Helper()
	require.NotNil(t, res.oc.Failed, "the sequence must stop")
	assert.Equal(t, step, res.oc.Failed.Step.ID, "stopped at the wrong step: %v", res.oc.Failed.Err)
	assert.Equal(t, code, res.oc.Code, "exit code")
	assert.NoError(t, contains(res.oc.Failed.Err.Error(), causes...), "the cause must be named")
	assert.NoError(t, contains(res.out, causes...), "the output must name the cause")
	assert.Contains(t, res.out, "DEPLOYMENT STOPPED at "+res.oc.Failed.Step.Label())
	require.NotEmpty(t, res.events)
	i := slices.IndexFunc(res.events, func(e journal.Entry) bool { return e.Status == journal.StatusFailed })
	require.GreaterOrEqual(t, i, 0, "the journal records the failed step")
	assert.Equal(t, step, res.events[i].Step, "the journal's first failure is the failed step")
	for _, e := range res.events[i+1:] {
		// Only Phase 4 goes on after its own failure, for the rollback
		// rule's evidence; nothing that changes the target runs.
		assert.Equal(t, journal.Phase4, res.events[i].Phase, "no step may run after a failure outside Phase 4: %s %s ran", e.Phase, e.Step)
		assert.Equal(t, journal.Phase4, e.Phase, "only Phase 4's checks run after a Phase 4 failure: %s %s ran", e.Phase, e.Step)
	}
}
