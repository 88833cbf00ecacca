package deploy_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
)

// fakeGo puts a `go` on PATH that writes canned `go test -json` output to
// the --jsonfile gotestsum was given, and fails when a test failed: the
// gates' reading of a child run, without the child. A retry run (a
// jsonfile named *.retry.json) gets retry's events when given.
func fakeGo(t *testing.T, events string, retry ...string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("a shell script stands for go")
	}
	bin := t.TempDir()
	canned := filepath.Join(bin, "events.json")
	require.NoError(t, os.WriteFile(canned, []byte(events), 0o600))
	again := canned
	if len(retry) > 0 {
		again = filepath.Join(bin, "retry.json")
		require.NoError(t, os.WriteFile(again, []byte(retry[0]), 0o600))
	}
	script := `#!/bin/sh
src="` + canned + `"
while [ $# -gt 0 ]; do
  if [ "$1" = "--jsonfile" ]; then
    case "$2" in *.retry.json) src="` + again + `";; esac
    cp "$src" "$2"
  fi
  shift
done
grep -q '"Action":"fail"' "$src" && exit 1
exit 0
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o700))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func localTarget(t *testing.T) *target.Target {
	t.Helper()
	tg, err := target.LoadFile(filepath.Join("..", "environments", "local.yaml"), func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return tg
}

func events(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// A failed postdeploy check stops the gate at its runbook step, with the
// check's message and the failure class of that step.
func TestPostdeployGateNamesTheStep(t *testing.T) {
	for _, c := range []struct {
		test, step, msg string
		code            int
	}{
		{"TestErrorRate", "4.5", "error rate 5.00% (query: ..., window 1m, 412 requests) above threshold 0.10%", exitcode.SLO},
		{"TestCriticalEndpoints", "4.4", "backend-core GET http://api/auth/me: status 500, want 200", exitcode.Smoke},
		{"TestLogs", "4.2", "3 ERROR-level log lines since 14:38:12 UTC", exitcode.SLO},
	} {
		t.Run(c.test, func(t *testing.T) {
			fakeGo(t, events(
				`{"Action":"run","Package":"p","Test":"`+c.test+`"}`,
				`{"Action":"output","Package":"p","Test":"`+c.test+`","Output":"    postdeploy_test.go:67: `+c.msg+`\n"}`,
				`{"Action":"fail","Package":"p","Test":"`+c.test+`","Elapsed":0.1}`,
				`{"Action":"fail","Package":"p","Elapsed":0.2}`))
			tg := localTarget(t)
			dir := t.TempDir()
			var out bytes.Buffer
			step := deploy.PostdeployGate(deploy.GoTest{Name: "postdeploy", Pkg: "./postdeploy", Timeout: time.Minute})
			oc := deploy.Run(context.Background(), tg, "v2.0.0", []deploy.Step{step}, deploy.Options{Out: &out, RunDir: dir})
			require.NotNil(t, oc.Failed, out.String())
			assert.Equal(t, c.code, oc.Code)
			assert.Contains(t, oc.Failed.Err.Error(), "Step "+c.step+" (")
			assert.Contains(t, oc.Failed.Err.Error(), c.msg)
			assert.FileExists(t, filepath.Join(dir, "postdeploy.json"))
		})
	}
}

// The smoke gate fails on a failed flow, naming flow and step, and on a
// flow that did not run.
func TestSmokeGateNeedsAllFiveFlows(t *testing.T) {
	pass := func(name string) []string {
		return []string{`{"Action":"run","Package":"p","Test":"` + name + `"}`, `{"Action":"pass","Package":"p","Test":"` + name + `","Elapsed":0.1}`}
	}
	var ok []string
	for _, f := range phase4.FlowTests() {
		ok = append(ok, pass(f)...)
	}
	run := func(t *testing.T, lines []string, retry ...string) *deploy.Outcome {
		fakeGo(t, events(lines...), retry...)
		step := deploy.SmokeGate(deploy.GoTest{Name: "smoke", Pkg: "./smoke", Timeout: time.Minute})
		return deploy.Run(context.Background(), localTarget(t), "v2.0.0", []deploy.Step{step}, deploy.Options{RunDir: t.TempDir()})
	}
	t.Run("all_pass", func(t *testing.T) {
		oc := run(t, append(ok, `{"Action":"pass","Package":"p","Elapsed":1}`))
		assert.Nil(t, oc.Failed)
	})
	t.Run("one_missing", func(t *testing.T) {
		oc := run(t, append(ok[:len(ok)-2], `{"Action":"pass","Package":"p","Elapsed":1}`))
		require.NotNil(t, oc.Failed)
		assert.Contains(t, oc.Failed.Err.Error(), "smoke flow TestHealth did not pass")
		assert.Equal(t, exitcode.Smoke, oc.Code)
	})
	t.Run("auth_login_fails", func(t *testing.T) {
		lines := append([]string{}, ok[2:]...)
		lines = append(lines,
			`{"Action":"run","Package":"p","Test":"TestAuth"}`,
			`{"Action":"run","Package":"p","Test":"TestAuth/login"}`,
			`{"Action":"output","Package":"p","Test":"TestAuth/login","Output":"    flow.go:12: backend-core POST http://api/auth/login: status 401, want 200\n"}`,
			`{"Action":"fail","Package":"p","Test":"TestAuth/login","Elapsed":0.1}`,
			`{"Action":"fail","Package":"p","Test":"TestAuth","Elapsed":0.1}`,
			`{"Action":"fail","Package":"p","Elapsed":1}`)
		oc := run(t, lines)
		require.NotNil(t, oc.Failed)
		assert.Contains(t, oc.Failed.Err.Error(), "smoke TestAuth failed, and again on an immediate retry: TestAuth/login")
		assert.Contains(t, oc.Failed.Err.Error(), "status 401, want 200")
		assert.Equal(t, exitcode.Smoke, oc.Code)
		assert.Contains(t, oc.Steps[0].Data[journal.KeySmokeFlows], "Auth fail")
	})
	// A flow that fails once and passes on the immediate retry failed
	// intermittently: the gate passes, says so, and journals it as flaky
	// (the error rate judges intermittent failures; the rollback rule does
	// not count a flaky flow as broken).
	t.Run("auth_flaky", func(t *testing.T) {
		lines := append([]string{}, ok[2:]...)
		lines = append(lines,
			`{"Action":"run","Package":"p","Test":"TestAuth"}`,
			`{"Action":"fail","Package":"p","Test":"TestAuth","Elapsed":0.1}`,
			`{"Action":"fail","Package":"p","Elapsed":1}`)
		oc := run(t, lines, events(append(pass("TestAuth"), `{"Action":"pass","Package":"p","Elapsed":1}`)...))
		require.Nil(t, oc.Failed, "a flow passing on the retry is not broken")
		assert.Equal(t, "TestAuth", oc.Steps[0].Data[journal.KeySmokeFlaky])
		assert.Contains(t, oc.Steps[0].Data[journal.KeySmokeFlows], "Auth flaky")
	})
}

// A blocking checklist sub-item stops the preflight gate (exit 3), naming
// the item and the reason; every sub-item proven lets it through.
func TestPreflightGateStopsOnABlocker(t *testing.T) {
	preflight := func(failSub string) []string {
		var lines []string
		for _, it := range checklist.Items {
			failed := false
			lines = append(lines, `{"Action":"run","Package":"p","Test":"`+it.Test+`"}`)
			for _, sub := range it.Subs {
				name := it.Test + "/" + checklist.SubtestName(sub)
				lines = append(lines, `{"Action":"run","Package":"p","Test":"`+name+`"}`)
				if sub == failSub {
					failed = true
					lines = append(lines,
						`{"Action":"output","Package":"p","Test":"`+name+`","Output":"    code.go:88: git status: 1 uncommitted change: M package.json\n"}`,
						`{"Action":"fail","Package":"p","Test":"`+name+`","Elapsed":0.1}`)
					continue
				}
				lines = append(lines, `{"Action":"output","Package":"p","Test":"`+name+`","Output":"    items.go:125: evidence: proven\n"}`,
					`{"Action":"pass","Package":"p","Test":"`+name+`","Elapsed":0.1}`)
			}
			action := "pass"
			if failed {
				action = "fail"
			}
			lines = append(lines, `{"Action":"`+action+`","Package":"p","Test":"`+it.Test+`","Elapsed":0.1}`)
		}
		end := "pass"
		if failSub != "" {
			end = "fail"
		}
		return append(lines, `{"Action":"`+end+`","Package":"p","Elapsed":1}`)
	}
	run := func(t *testing.T, lines []string) (*deploy.Outcome, string) {
		fakeGo(t, events(lines...))
		dir := t.TempDir()
		step := deploy.PreflightGate(deploy.GoTest{Name: "preflight", Pkg: "./preflight", Timeout: time.Minute}, "local")
		var out bytes.Buffer
		oc := deploy.Run(context.Background(), localTarget(t), "v2.0.0", []deploy.Step{step}, deploy.Options{RunDir: dir, Out: &out})
		assert.FileExists(t, filepath.Join(dir, "checklist.txt"))
		return oc, out.String()
	}
	t.Run("blocked", func(t *testing.T) {
		oc, out := run(t, preflight("No uncommitted changes"))
		require.NotNil(t, oc.Failed, out)
		assert.Equal(t, exitcode.Preflight, oc.Code)
		assert.Contains(t, oc.Failed.Err.Error(), "4. Final Code Verification / No uncommitted changes")
		assert.Contains(t, oc.Failed.Err.Error(), "uncommitted change: M package.json")
		assert.Equal(t, "make preflight ENV=local", oc.Next)
	})
	t.Run("complete", func(t *testing.T) {
		oc, out := run(t, preflight(""))
		assert.Nil(t, oc.Failed, out)
		assert.Contains(t, out, "ALL COMPLETE")
	})
}
