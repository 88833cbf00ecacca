package checklist_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
)

// demoEnv makes the Test* functions below run: they are the ./preflight
// of a demo, run in a child process by goTestJSON.
const demoEnv = "CHECKLIST_DEMO"

func demo(t *testing.T) string {
	t.Helper()
	mode := os.Getenv(demoEnv)
	if mode == "" {
		t.Skip("run by the renderer tests in a child process")
	}
	return mode
}

func pass(ev string) checklist.Check {
	return func(ctx context.Context, r *flow.Recorder) error {
		r.Logf("detail nobody needs in the checklist")
		checklist.Evidence(r, "%s", ev)
		return nil
	}
}

// Item 1: every sub-item done.
func TestDatabaseBackup(t *testing.T) {
	demo(t)
	flow.RunT(t, checklist.Flow(nil, 1, map[string]checklist.Check{
		"Full backup taken":              pass("backup-20261126-130004.dump, 12.3 MB"),
		"Backup verified & downloadable": pass("restored, 7 tables match"),
		"Backup time":                    pass("2026-11-26 13:00:04 UTC"),
	}))
}

// Item 4: one failure, one not checked, secrets redacted; or all done.
func TestFinalCodeVerification(t *testing.T) {
	mode := demo(t)
	tgt := &target.Target{}
	tgt.Attach(target.LocalEndpoints{DatabaseURL: "postgres://u:hunter2-pw@h/db"})
	checks := map[string]checklist.Check{
		"Latest code pulled": pass("HEAD 1a2b3c4 = origin/main"),
		"All tests passing": func(context.Context, *flow.Recorder) error {
			return errors.New("CI status of 1a2b3c4 is \"failing\" (password hunter2-pw), want passing")
		},
		"No uncommitted changes": pass("clean"),
		"Version tag ready": func(context.Context, *flow.Recorder) error {
			return checklist.NotChecked("needs the commit from %q, which failed", "Latest code pulled")
		},
	}
	if mode == "blocked" {
		checks["No uncommitted changes"] = func(context.Context, *flow.Recorder) error {
			return errors.Join(errors.New("M src/index.ts"), errors.New("?? notes.txt"))
		}
	}
	if mode == "complete" {
		checks["All tests passing"] = pass("CI: passing")
		checks["Version tag ready"] = pass("v2.0.0 at HEAD")
	}
	flow.RunT(t, checklist.Flow(tgt, 4, checks))
}

// Item 2: a placeholder, as ./preflight has for an item not written yet.
func TestInfrastructureCheck(t *testing.T) {
	if demo(t) == "complete" {
		flow.RunT(t, checklist.Flow(nil, 2, map[string]checklist.Check{
			"All services healthy": pass("3/3"), "Monitoring enabled": pass("up"),
			"Logging operational": pass("logs"), "Alerts configured": pass("rules"),
		}))
		return
	}
	t.Fatal("checklist item 2 not implemented yet")
}

// goTestJSON runs this test binary's demo tests as `go test -json` would
// (through test2json) and returns the output.
func goTestJSON(t *testing.T, mode, run string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "tool", "test2json", "-t", "-p", "github.com/granter/runbook/preflight",
		os.Args[0], "-test.run="+run, "-test.v=test2json", "-test.count=1")
	cmd.Env = append(os.Environ(), demoEnv+"="+mode)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("test2json: %v", err)
	}
	return out
}

func TestRenderBlocked(t *testing.T) {
	out := goTestJSON(t, "blocked", "^(TestDatabaseBackup|TestFinalCodeVerification|TestInfrastructureCheck)$")
	rep, err := checklist.Read(bytes.NewReader(out))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, rep.Write(&buf, checklist.Heading{Env: "prod", Version: "v2.0.0"}))
	text := buf.String()
	t.Log("\n" + text)

	for _, want := range []string{
		"PRE-DEPLOYMENT CHECKLIST — prod v2.0.0",
		"[x] 1. Database Backup",
		"      ✅ Full backup taken: backup-20261126-130004.dump, 12.3 MB",
		"      ✅ Backup verified & downloadable: restored, 7 tables match",
		"[ ] 2. Infrastructure Check",
		"      ⚠ All services healthy: NOT CHECKED: checklist item 2 not implemented yet",
		"[ ] 3. Team Coordination",
		"      ⚠ Video call active: NOT CHECKED: did not run",
		"[ ] 4. Final Code Verification",
		"      ✅ Latest code pulled: HEAD 1a2b3c4 = origin/main",
		`      ❌ All tests passing: FAILED: CI status of 1a2b3c4 is "failing" (password [REDACTED:RUNBOOK_LOCAL_DATABASE_URL]), want passing`,
		`      ⚠ Version tag ready: NOT CHECKED: needs the commit from "Latest code pulled", which failed`,
		"      ❌ No uncommitted changes: FAILED: M src/index.ts ?? notes.txt",
		"Status: BLOCKED — 27 blocker(s), do not proceed:",
		"  - 4. Final Code Verification / All tests passing: FAILED: CI status",
		"  - 8. Load Balancer Check / TLS certificates valid: NOT CHECKED: did not run",
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "hunter2-pw")
	assert.NotContains(t, text, "detail nobody needs")
	assert.NotContains(t, text, "ALL COMPLETE")
	assert.Equal(t, exitcode.Preflight, rep.ExitCode())
}

// Skipped or missing items never read as complete, even when every check
// that ran passed.
func TestRenderSkippedIsNotComplete(t *testing.T) {
	out := goTestJSON(t, "complete", "^(TestDatabaseBackup|TestFinalCodeVerification)$")
	rep, err := checklist.Read(bytes.NewReader(out))
	require.NoError(t, err)
	assert.True(t, rep.Items[0].Complete())
	assert.True(t, rep.Items[3].Complete())
	assert.False(t, rep.Items[1].Complete(), "item 2 did not run")
	assert.Equal(t, exitcode.Preflight, rep.ExitCode())
	assert.Len(t, rep.Blockers(), 31-3-4, "31 sub-items, items 1 (3) and 4 (4) done")

	// The same output with item 1 skipped as a whole.
	skipped := bytes.ReplaceAll(out, []byte(`"Action":"pass","Package":"github.com/granter/runbook/preflight","Test":"TestDatabaseBackup/Full_backup_taken"`),
		[]byte(`"Action":"skip","Package":"github.com/granter/runbook/preflight","Test":"TestDatabaseBackup/Full_backup_taken"`))
	require.NotEqual(t, out, skipped, "the fixture output has the pass event")
	rep, err = checklist.Read(bytes.NewReader(skipped))
	require.NoError(t, err)
	assert.False(t, rep.Items[0].Complete())
	assert.Equal(t, checklist.Unchecked, rep.Items[0].Subs[0].State)
}

func TestRenderAllComplete(t *testing.T) {
	out := goTestJSON(t, "complete", "^(TestDatabaseBackup|TestFinalCodeVerification|TestInfrastructureCheck)$")
	// Pretend the other five items are there and done: rename item 1's
	// events to theirs.
	var all bytes.Buffer
	all.Write(out)
	for _, it := range checklist.Items {
		if it.Number == 1 || it.Number == 2 || it.Number == 4 {
			continue
		}
		for i, sub := range it.Subs {
			line := `{"Action":"pass","Package":"p","Test":"` + it.Test + "/" + checklist.SubtestName(sub) + `"}` + "\n"
			if i == 0 {
				line += `{"Action":"output","Package":"p","Test":"` + it.Test + "/" + checklist.SubtestName(sub) + `","Output":"    runt.go:49: evidence: proven\n"}` + "\n"
			}
			all.WriteString(line)
		}
	}
	rep, err := checklist.Read(&all)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, rep.Write(&buf, checklist.Heading{}))
	assert.Contains(t, buf.String(), "Status: ☑️ ALL COMPLETE → Proceed")
	assert.Contains(t, buf.String(), "[x] 8. Load Balancer Check")
	assert.Equal(t, exitcode.OK, rep.ExitCode(), buf.String())
}

func TestRenderConfigError(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"github.com/granter/runbook/preflight"}`,
		`{"Action":"output","Package":"github.com/granter/runbook/preflight","Output":"runbook: the target configuration is not usable; no test ran:\n"}`,
		`{"Action":"output","Package":"github.com/granter/runbook/preflight","Output":"  environments/prod.yaml: code.repo: missing\n"}`,
		`{"Action":"output","Package":"github.com/granter/runbook/preflight","Output":"FAIL\tgithub.com/granter/runbook/preflight\t0.01s\n"}`,
		`{"Action":"fail","Package":"github.com/granter/runbook/preflight","Elapsed":0.01}`,
	}, "\n")
	rep, err := checklist.Read(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, exitcode.Config, rep.ExitCode())
	var buf bytes.Buffer
	require.NoError(t, rep.Write(&buf, checklist.Heading{}))
	assert.Contains(t, buf.String(), "environments/prod.yaml: code.repo: missing")
	assert.Contains(t, buf.String(), "Status: BLOCKED (configuration)")
}

func TestRenderBuildFailure(t *testing.T) {
	in := strings.Join([]string{
		`{"ImportPath":"github.com/granter/runbook/preflight","Action":"build-output","Output":"preflight/x.go:3:1: syntax error\n"}`,
		`{"ImportPath":"github.com/granter/runbook/preflight","Action":"build-fail"}`,
		`{"Action":"start","Package":"github.com/granter/runbook/preflight"}`,
		`{"Action":"output","Package":"github.com/granter/runbook/preflight","Output":"FAIL\tgithub.com/granter/runbook/preflight [build failed]\n"}`,
		`{"Action":"fail","Package":"github.com/granter/runbook/preflight","Elapsed":0}`,
	}, "\n")
	rep, err := checklist.Read(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, exitcode.Internal, rep.ExitCode())
	assert.Contains(t, rep.RunError, "syntax error")
	assert.Contains(t, strings.Join(rep.Blockers(), "\n"), "the preflight run itself failed")
}

func TestRenderNothing(t *testing.T) {
	rep, err := checklist.Read(strings.NewReader(""))
	require.NoError(t, err)
	assert.Equal(t, exitcode.Internal, rep.ExitCode())
	assert.Contains(t, rep.RunError, "no test ran")
}

func TestFlowPanicsOnWrongSubItems(t *testing.T) {
	assert.PanicsWithValue(t, `checklist: item 1. Database Backup has no check for sub-item "Backup time"`, func() {
		checklist.Flow(nil, 1, map[string]checklist.Check{"Full backup taken": nil, "Backup verified & downloadable": nil})
	})
	assert.Panics(t, func() {
		checklist.Flow(nil, 1, map[string]checklist.Check{"Full backup taken": nil, "Backup verified & downloadable": nil, "Backup time": nil, "Backup time: ___": nil})
	})
	f := checklist.Flow(nil, 5, map[string]checklist.Check{
		"Staging deployment successful": nil, "Staging smoke tests passed": nil, "Production secrets ready": nil, "Database migration scripts ready": nil,
	})
	assert.Equal(t, "5. Environment Validation", f.Name)
	for _, s := range f.Steps {
		assert.True(t, s.Independent, s.Name)
	}
}

// `go test -json ./preflight/...` runs the same test names in several
// packages: one package's pass must not hide another's fail, whichever
// comes last.
func TestReadKeepsFailAcrossPackages(t *testing.T) {
	it := checklist.Items[0]
	name := it.Test + "/" + checklist.SubtestName(it.Subs[0])
	event := func(pkg, action, output string) string {
		if output != "" {
			return `{"Action":"output","Package":"` + pkg + `","Test":"` + name + `","Output":"    x.go:1: FAILED: ` + output + `\n"}` + "\n"
		}
		return `{"Action":"` + action + `","Package":"` + pkg + `","Test":"` + name + `"}` + "\n"
	}
	failed := event("example/preflight/backup", "", "no backup in the bucket") + event("example/preflight/backup", "fail", "")
	passed := event("example/preflight", "pass", "")
	for _, out := range []string{failed + passed, passed + failed} {
		rep, err := checklist.Read(strings.NewReader(out))
		require.NoError(t, err)
		sub := rep.Items[0].Subs[0]
		assert.Equal(t, checklist.Failed, sub.State, out)
		assert.Equal(t, "no backup in the bucket", sub.Reason)
		assert.False(t, rep.Items[0].Complete())
	}
}
