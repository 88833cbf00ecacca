package pipeline_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/target"
)

var workflowFile = filepath.Join("..", ".github", "workflows", "deploy.yml")

// environments are the choices of the workflow's environment input: the
// GitHub environments whose secrets a run reads.
var environments = []string{"staging", "prod"}

func workflow(tb testing.TB) (*actionlint.Workflow, []byte) {
	tb.Helper()
	data, err := os.ReadFile(workflowFile)
	require.NoError(tb, err)
	wf, errs := actionlint.Parse(data)
	for _, e := range errs {
		tb.Errorf("%s:%d:%d: %s", workflowFile, e.Line, e.Column, e.Message)
	}
	require.NotNil(tb, wf)
	return wf, data
}

func job(tb testing.TB, wf *actionlint.Workflow, id string) *actionlint.Job {
	tb.Helper()
	j, ok := wf.Jobs[id]
	require.True(tb, ok, "%s has no job %q", workflowFile, id)
	return j
}

// rollbackTriggers is the runbook's rule as CI applies it: the exit codes
// (README "Exit codes") of each gate job that start the rollback job. A
// deploy step (4), a smoke flow (5) or an SLO breach (6) after the platform
// changed; make deploy runs the Phase 4 gates itself, so the deploy job
// exits 5 and 6 too. The watch exits 6 on a failed round.
var rollbackTriggers = map[string][]int{
	"deploy":     {exitcode.Deploy, exitcode.Smoke, exitcode.SLO},
	"postdeploy": {exitcode.Deploy, exitcode.Smoke, exitcode.SLO},
	"monitor":    {exitcode.SLO},
}

// gates are the jobs in the order they run; each needs the one before.
var gates = []string{"preflight", "deploy", "postdeploy", "monitor"}

// The rollback job's if: evaluated for every gate job exiting every code:
// it runs exactly on the runbook's triggers.
func TestRollbackRunsOnTheRunbooksTriggers(t *testing.T) {
	wf, _ := workflow(t)
	rb := job(t, wf, "rollback")
	require.NotNil(t, rb.If, "job rollback has no if: it would run only when every gate passed")
	var needs []string
	for _, n := range rb.Needs {
		needs = append(needs, n.Value)
	}
	for g := range rollbackTriggers {
		require.Contains(t, needs, g, "job rollback needs: without %s its exit code cannot be read", g)
	}
	cond := strings.TrimSpace(rb.If.Value)
	cond = strings.TrimSuffix(strings.TrimPrefix(cond, "${{"), "}}")

	for gi, failing := range gates {
		for code := exitcode.Internal; code <= exitcode.Refused; code++ {
			// The gates before the failing one passed (exit 0), the ones
			// after it were skipped (no outputs).
			needsCtx := map[string]any{}
			for i, g := range gates {
				out, result := "", "skipped"
				switch {
				case i < gi:
					out, result = "0", "success"
				case i == gi:
					out, result = fmt.Sprint(code), "failure"
				}
				needsCtx[g] = map[string]any{"result": result, "outputs": map[string]any{"exit_code": out}}
			}
			got, err := eval(cond, evalContext{contexts: map[string]any{"needs": needsCtx}, failed: true})
			require.NoError(t, err, "job rollback if: %s", cond)
			want := slices.Contains(rollbackTriggers[failing], code)
			assert.Equal(t, want, truthy(got), "job rollback when job %s exits %d (%s): runs = %v, want %v (triggers: %v from deploy and postdeploy, %v from monitor)",
				failing, code, exitcode.Name(code), truthy(got), want, rollbackTriggers["deploy"], rollbackTriggers["monitor"])
		}
	}
	t.Run("not when every gate passed", func(t *testing.T) {
		needsCtx := map[string]any{}
		for _, g := range gates {
			needsCtx[g] = map[string]any{"result": "success", "outputs": map[string]any{"exit_code": "0"}}
		}
		got, err := eval(cond, evalContext{contexts: map[string]any{"needs": needsCtx}})
		require.NoError(t, err)
		assert.False(t, truthy(got), "job rollback runs although every gate passed")
	})
}

// secretEnvNames are the variables environments/<env>.yaml names for its
// secrets (database.urlEnv, webhook.urlEnv), per environment.
func secretEnvNames(tb testing.TB) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, env := range environments {
		file := filepath.Join("..", "environments", env+".yaml")
		tgt, err := target.LoadFile(file, func(name string) (string, bool) {
			switch {
			case strings.HasSuffix(name, "_DATABASE_URL"):
				// The URL must name the file's database.name (target.DatabaseNamed).
				return "postgres://runbook:pw@db.example.com:5432/granter_db", true
			case strings.HasSuffix(name, "_URL"):
				return "https://secret.example.com/" + name, true
			}
			return "", false
		})
		require.NoError(tb, err)
		for _, s := range tgt.Secrets() {
			out[env] = append(out[env], s.Name())
		}
		require.NotEmpty(tb, out[env], "%s names no secret", file)
	}
	return out
}

var secretRef = regexp.MustCompile(`(?i)\bsecrets\.([A-Za-z0-9_]+)`)

// Each job reads the secrets of the run's environment only. A job that
// references secrets runs in the GitHub environment of the target
// (environment: ${{ inputs.environment }}), so secrets.X is that
// environment's X; secret names never name an environment (a repository
// secret RUNBOOK_PROD_... would reach staging runs); and, evaluated for a
// staging and a prod run, every variable environments/<env>.yaml names is
// set from that environment's secret, none holds the other's, and the
// other environment's variables are empty.
func TestSecretsScopedToTheEnvironment(t *testing.T) {
	wf, _ := workflow(t)
	names := secretEnvNames(t)
	if wf.Env != nil {
		require.Nil(t, wf.Env.Expression, "workflow env: set from an expression")
		for _, v := range wf.Env.Vars {
			assert.NotRegexp(t, secretRef, v.Value.Value, "workflow env %s: secrets at the workflow level reach every job of every run", v.Name.Value)
		}
	}
	for id, j := range wf.Jobs {
		refs := secretRefs(j)
		if len(refs) == 0 {
			continue
		}
		for _, r := range refs {
			for _, env := range environments {
				assert.NotContains(t, strings.ToLower(r), env, "job %s reads secrets.%s: a secret named after an environment; name it the same in each GitHub environment", id, r)
			}
		}
		if !assert.NotNil(t, j.Environment, "job %s reads secrets (%v) without environment:, so not the environment's", id, refs) {
			continue
		}
		for _, env := range environments {
			inputs := map[string]any{"environment": env}
			name, err := expand(j.Environment.Name.Value, evalContext{contexts: map[string]any{"inputs": inputs}})
			require.NoError(t, err, "job %s environment", id)
			require.Equal(t, env, name, "job %s environment in a %s run", id, env)
			secrets := map[string]any{}
			for _, r := range refs {
				secrets[r] = env + "-secret:" + r
			}
			ec := evalContext{contexts: map[string]any{"inputs": inputs, "secrets": secrets}}
			vals := map[string]string{}
			for _, e := range []*actionlint.Env{wf.Env, j.Env} {
				if e == nil {
					continue
				}
				for _, v := range e.Vars {
					got, err := expand(v.Value.Value, ec)
					require.NoError(t, err, "job %s env %s", id, v.Name.Value)
					vals[v.Name.Value] = got
				}
			}
			for _, n := range names[env] {
				assert.True(t, strings.HasPrefix(vals[n], env+"-secret:"), "job %s in a %s run: %s = %q, want the %s environment's secret", id, env, n, vals[n], env)
			}
			for _, other := range environments {
				if other == env {
					continue
				}
				for n, v := range vals {
					assert.NotContains(t, v, other+"-secret:", "job %s in a %s run: %s holds a secret of %s", id, env, n, other)
				}
				for _, n := range names[other] {
					assert.Empty(t, vals[n], "job %s in a %s run: %s (environments/%s.yaml) is set", id, env, n, other)
				}
			}
		}
	}
}

// secretRefs lists the secrets a job's env, steps and inputs reference.
func secretRefs(j *actionlint.Job) []string {
	var texts []string
	addEnv := func(e *actionlint.Env) {
		if e == nil {
			return
		}
		if e.Expression != nil {
			texts = append(texts, e.Expression.Value)
		}
		for _, v := range e.Vars {
			texts = append(texts, v.Value.Value)
		}
	}
	addEnv(j.Env)
	for _, s := range j.Steps {
		addEnv(s.Env)
		switch x := s.Exec.(type) {
		case *actionlint.ExecRun:
			texts = append(texts, x.Run.Value)
		case *actionlint.ExecAction:
			for _, in := range x.Inputs {
				texts = append(texts, in.Value.Value)
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, m := range secretRef.FindAllStringSubmatch(t, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	slices.Sort(out)
	return out
}

var exprSpan = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// expand replaces each ${{ expr }} in s by its value.
func expand(s string, ec evalContext) (string, error) {
	var firstErr error
	out := exprSpan.ReplaceAllStringFunc(s, func(m string) string {
		v, err := eval(exprSpan.FindStringSubmatch(m)[1], ec)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return str(v)
	})
	return out, firstErr
}

var (
	usesLine = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	pinned   = regexp.MustCompile(`^[^@\s]+@[0-9a-f]{40}$`)
	tagNote  = regexp.MustCompile(`^\s*#\s*v\d+(\.\d+)*\s*$`)
)

// Every third-party action is pinned by its full commit SHA (a tag can be
// moved to other code), with the release tag in a comment for readers and
// update tools.
func TestActionsPinnedBySHA(t *testing.T) {
	_, data := workflow(t)
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		m := usesLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(m[1], "./") {
			continue
		}
		n++
		assert.Regexp(t, pinned, m[1], "%s:%d: %s is not pinned by a full commit SHA", workflowFile, i+1, m[1])
		assert.Regexp(t, tagNote, m[2], "%s:%d: %s: want the release tag in a comment (# v1.2.3)", workflowFile, i+1, m[1])
	}
	require.NotZero(t, n, "no uses: line found in %s", workflowFile)
}

// actionSteps are a job's steps that use action (owner/name, any ref),
// with their index in the job.
func actionSteps(j *actionlint.Job, action string) map[int]*actionlint.ExecAction {
	out := map[int]*actionlint.ExecAction{}
	for i, s := range j.Steps {
		if a, ok := s.Exec.(*actionlint.ExecAction); ok && strings.HasPrefix(a.Uses.Value, action+"@") {
			out[i] = a
		}
	}
	return out
}

func input(a *actionlint.ExecAction, name string) string {
	if in, ok := a.Inputs[name]; ok && in.Value != nil {
		return in.Value.Value
	}
	return ""
}

// runStep is the index of the first step whose run: contains text, or -1.
func runStep(j *actionlint.Job, text string) int {
	for i, s := range j.Steps {
		if r, ok := s.Exec.(*actionlint.ExecRun); ok && strings.Contains(r.Run.Value, text) {
			return i
		}
	}
	return -1
}

// runFolderArtifact reports whether job id has a step using action on the
// run folder (path ${{ env.RUN_DIR }}), and checks each such step names
// the artifact want.
func runFolderArtifact(t *testing.T, id string, j *actionlint.Job, action, want string) bool {
	t.Helper()
	found := false
	for _, a := range actionSteps(j, action) {
		if input(a, "path") == "${{ env.RUN_DIR }}" {
			found = true
			assert.Equal(t, want, input(a, "name"), "job %s: name of the run folder artifact of its %s step", id, action)
		}
	}
	return found
}

// One run folder per pipeline, named from the run id, travels between the
// jobs as an artifact of that name (each job may run on another runner);
// every gate uploads it even when it fails, so the rollback and the report
// read its evidence. The backup Step 1.1 takes in the deploy job reaches
// the rollback job the same way, before `make rollback` needs it.
func TestRunFolderAndBackupReachTheRollback(t *testing.T) {
	wf, _ := workflow(t)
	const runArtifact = "run-${{ github.run_id }}"
	require.NotNil(t, wf.Env, "workflow env: no RUN_DIR")
	runDir, ok := wf.Env.Vars["run_dir"]
	require.True(t, ok, "workflow env: no RUN_DIR")
	assert.Contains(t, runDir.Value.Value, "${{ github.run_id }}", "workflow env RUN_DIR: one run folder per pipeline, named from the run id")

	for _, id := range append(slices.Clone(gates), "rollback") {
		j := job(t, wf, id)
		assert.True(t, runFolderArtifact(t, id, j, "actions/upload-artifact", runArtifact), "job %s does not upload the run folder (%s)", id, runArtifact)
		if id == "preflight" {
			continue
		}
		downloaded := runFolderArtifact(t, id, j, "actions/download-artifact", runArtifact)
		assert.True(t, downloaded, "job %s does not download the run folder (%s): it would start an empty one", id, runArtifact)
	}

	deploy, rollback := job(t, wf, "deploy"), job(t, wf, "rollback")
	out, ok := deploy.Outputs["backup_dir"]
	require.True(t, ok, "job deploy has no output backup_dir: the rollback job cannot know where the backup goes")
	backupArtifact := ""
	for _, a := range actionSteps(deploy, "actions/upload-artifact") {
		if strings.HasPrefix(input(a, "name"), "backup-") {
			backupArtifact = input(a, "name")
			assert.Contains(t, backupArtifact, "${{ github.run_id }}", "job deploy: backup artifact %q not named from the run id", backupArtifact)
		}
	}
	require.NotEmpty(t, backupArtifact, "job deploy uploads no backup-<run id> artifact: the backup stays on its runner's disk")
	require.NotNil(t, out.Value)
	gate := runStep(rollback, "make rollback")
	require.NotEqual(t, -1, gate, "job rollback has no step running make rollback")
	found := false
	for i, a := range actionSteps(rollback, "actions/download-artifact") {
		if input(a, "name") != backupArtifact {
			continue
		}
		found = true
		assert.Equal(t, "${{ needs.deploy.outputs.backup_dir }}", input(a, "path"), "job rollback: the backup must land where the journal says it is (backup.dir)")
		assert.Less(t, i, gate, "job rollback downloads the backup after make rollback")
	}
	assert.True(t, found, "job rollback does not download the artifact %s", backupArtifact)
}
