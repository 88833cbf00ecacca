//go:build !staging && !prod

package code_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/gitrepo"
	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/code"
)

// fresh is a target pointing at a new checkout of its own, which a fault
// test may break.
func fresh(t *testing.T) (*target.Target, *gitrepo.Repo) {
	t.Helper()
	r := gitrepo.NewT(t, tgt.Version)
	c := *tgt
	c.Code.Repo, c.Code.VersionFile = r.Dir, "package.json"
	c.CI = target.CI{StatusFile: r.StatusFile}
	return &c, r
}

func TestFinalCodeVerificationFaults(t *testing.T) {
	v := tgt.Version
	cases := []struct {
		name, sub string
		breakIt   func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo)
		want      []string
	}{
		{"local ahead of remote", code.LatestCodePulled, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			// A commit made on the deploy host and never pushed; the tag
			// and the CI status follow it so that only this sub-item is wrong.
			require.NoError(t, r.Commit(ctx, "hotfix on the deploy host", map[string]string{"src/hotfix.ts": "export {};\n"}))
			retag(ctx, t, r, v)
			require.NoError(t, r.WriteStatus(ctx, "passing"))
		}, []string{"1 commit(s) ahead of origin/main", "not on main"}},
		{"remote moved on", code.LatestCodePulled, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			require.NoError(t, r.PushFromElsewhere(ctx, "merged after the release was cut"))
		}, []string{"1 commit(s) behind origin/main", "git pull"}},
		{"failing test status", code.AllTestsPassing, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			require.NoError(t, r.WriteStatus(ctx, "failing"))
		}, []string{`are "failing", not passing`, "ci.statusFile"}},
		{"test status of another commit", code.AllTestsPassing, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			first, err := r.Git(ctx, "rev-list", "--max-parents=0", "HEAD")
			require.NoError(t, err)
			require.NoError(t, r.WriteStatusFor(first, "passing"))
		}, []string{"gives the status of commit", "not of HEAD", "have not been reported"}},
		{"no test status", code.AllTestsPassing, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			require.NoError(t, os.Remove(r.StatusFile))
		}, []string{"no test status", "ci-status.json"}},
		{"dirty tree", code.NoUncommittedChanges, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			require.NoError(t, os.WriteFile(filepath.Join(r.Dir, "src/index.ts"), []byte("export const debug = true;\n"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(r.Dir, "notes.txt"), []byte("todo\n"), 0o644))
		}, []string{"2 uncommitted change(s)", "M src/index.ts", "?? notes.txt"}},
		{"missing tag", code.VersionTagReady, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			git(ctx, t, r, "tag", "-d", v)
			git(ctx, t, r, "push", "--quiet", "origin", ":refs/tags/"+v)
		}, []string{"tag " + v + " does not exist", "git tag -a " + v}},
		{"tag not at HEAD", code.VersionTagReady, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			git(ctx, t, r, "tag", "-f", "-a", v, "-m", "moved", "HEAD~1")
			git(ctx, t, r, "push", "--quiet", "--force", "origin", v)
		}, []string{"tag " + v + " points at", "not at HEAD"}},
		{"tag not pushed", code.VersionTagReady, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			git(ctx, t, r, "push", "--quiet", "origin", ":refs/tags/"+v)
		}, []string{"tag " + v + " is not on origin", "git push origin " + v}},
		{"HEAD tagged with another version", code.VersionTagReady, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			tg.Version = "v2.0.1"
		}, []string{"tag v2.0.1 does not exist", "tags at HEAD", v}},
		{"code declares another version", code.VersionTagReady, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			// Released from a commit whose package.json was never bumped.
			require.NoError(t, r.Commit(ctx, "oops", map[string]string{"package.json": gitrepo.PackageJSON("v1.9.0")}))
			git(ctx, t, r, "push", "--quiet", "origin", "main")
			retag(ctx, t, r, v)
			require.NoError(t, r.WriteStatus(ctx, "passing"))
		}, []string{`package.json declares version "1.9.0", not 2.0.0`}},
		{"no version given", code.VersionTagReady, func(ctx context.Context, t *testing.T, tg *target.Target, r *gitrepo.Repo) {
			tg.Version = ""
		}, []string{"no VERSION given", "VERSION=v2.0.0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg, r := fresh(t)
			c.breakIt(t.Context(), t, tg, r)
			checklist.AssertOnlyFails(t, flow.Run(t.Context(), code.New(tg)), c.sub, c.want...)
		})
	}
}

func TestFinalCodeVerificationNoCheckout(t *testing.T) {
	tg := *tgt
	tg.Code.Repo = t.TempDir() // not a git checkout
	res := flow.Run(t.Context(), code.New(&tg))
	for _, s := range res.Steps {
		if s.Status != flow.Failed {
			t.Errorf("%s: %s, want failed without a checkout", s.Name, s.Status)
		}
	}
	require.ErrorContains(t, res.Steps[0].Err, "is not a git checkout")
}

// retag moves the version tag to HEAD, locally and on the remote.
func retag(ctx context.Context, t *testing.T, r *gitrepo.Repo, v string) {
	t.Helper()
	git(ctx, t, r, "tag", "-f", "-a", v, "-m", "Release "+v)
	git(ctx, t, r, "push", "--quiet", "--force", "origin", v)
}

func git(ctx context.Context, t *testing.T, r *gitrepo.Repo, args ...string) {
	t.Helper()
	_, err := r.Git(ctx, args...)
	require.NoError(t, err)
}
