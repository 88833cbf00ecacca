package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
)

func localTarget(t *testing.T) *target.Target {
	t.Helper()
	tg, err := target.LoadFile(filepath.Join("..", "environments", "local.yaml"), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return tg
}

// A blocking checklist sub-item stops the preflight gate (exit 3), naming
// the item and the reason; every sub-item proven lets it through.
func TestPreflightGateStopsOnABlocker(t *testing.T) {
	// items runs the 8 items as canned flow results: every sub-item
	// proven, except failSub, which fails as a check does.
	items := func(failSub string) deploy.ItemRunner {
		return func(_ context.Context, _ *deploy.State, done func(string, flow.Result)) error {
			for _, it := range checklist.Items {
				res := flow.Result{Flow: it.Test, Duration: time.Second}
				for _, sub := range it.Subs {
					st := flow.StepResult{Name: sub, Status: flow.Passed, Lines: []string{checklist.EvidencePrefix + "proven"}, Duration: 10 * time.Millisecond}
					if sub == failSub {
						st = flow.StepResult{Name: sub, Status: flow.Failed, Err: errors.New("git status: 1 uncommitted change: M package.json")}
					}
					res.Steps = append(res.Steps, st)
				}
				done(it.Test, res)
			}
			return nil
		}
	}
	run := func(t *testing.T, items deploy.ItemRunner) (*deploy.Outcome, string, string) {
		dir := t.TempDir()
		step := deploy.PreflightGate("local", time.Minute, items)
		var out bytes.Buffer
		oc := deploy.Run(context.Background(), localTarget(t), "v2.0.0", []deploy.Step{step}, deploy.Options{RunDir: dir, Out: &out})
		assert.FileExists(t, filepath.Join(dir, "checklist.txt"))
		assert.FileExists(t, filepath.Join(dir, "preflight.junit.xml"))
		return oc, out.String(), dir
	}
	t.Run("blocked", func(t *testing.T) {
		oc, out, _ := run(t, items("No uncommitted changes"))
		require.NotNil(t, oc.Failed, out)
		assert.Equal(t, exitcode.Preflight, oc.Code)
		assert.Contains(t, oc.Failed.Err.Error(), "4. Final Code Verification / No uncommitted changes")
		assert.Contains(t, oc.Failed.Err.Error(), "uncommitted change: M package.json")
		assert.Contains(t, out, "❌ 4. Final Code Verification / No uncommitted changes")
		assert.Equal(t, "make preflight ENV=local", oc.Next)
	})
	t.Run("complete", func(t *testing.T) {
		oc, out, dir := run(t, items(""))
		assert.Nil(t, oc.Failed, out)
		assert.Contains(t, out, "ALL COMPLETE")
		// The same file make preflight's go test -json wrote, read as the
		// report and runbook checklist read it.
		raw, err := os.ReadFile(filepath.Join(dir, "preflight.json"))
		require.NoError(t, err)
		rep, err := checklist.Read(bytes.NewReader(raw))
		require.NoError(t, err)
		assert.Equal(t, exitcode.OK, rep.ExitCode(), "blockers: %v", rep.Blockers())
		assert.Equal(t, []string{"proven"}, rep.Items[0].Subs[0].Evidence)
	})
	// A set-up that failed before any item ran is a run error, never a
	// pass: the checklist proves nothing.
	t.Run("setup_failed", func(t *testing.T) {
		oc, out, _ := run(t, func(context.Context, *deploy.State, func(string, flow.Result)) error {
			return errors.New("local set-up failed; no item ran: Prometheus did not start")
		})
		require.NotNil(t, oc.Failed, out)
		assert.Equal(t, exitcode.Preflight, oc.Code)
		assert.Contains(t, oc.Failed.Err.Error(), "Prometheus did not start")
	})
}
