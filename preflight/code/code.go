package code

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/proc"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	LatestCodePulled     = "Latest code pulled"
	AllTestsPassing      = "All tests passing"
	NoUncommittedChanges = "No uncommitted changes"
	VersionTagReady      = "Version tag ready"
	itemNumber           = 4
)

// Timeouts of the commands the checks run.
const (
	GitTimeout    = time.Minute      // one git command (a fetch over the network)
	StatusTimeout = 30 * time.Second // ci.statusCommand
)

// New returns checklist item 4 for tgt.
func New(tgt *target.Target) flow.Flow {
	it := &item{tgt: tgt, repo: tgt.Code.Repo}
	return checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		LatestCodePulled:     it.latestPulled,
		AllTestsPassing:      it.testsPassing,
		NoUncommittedChanges: it.noChanges,
		VersionTagReady:      it.tagReady,
	})
}

type item struct {
	tgt  *target.Target
	repo string

	fetchOnce sync.Once
	fetchErr  error
}

// fetch runs `git fetch --prune --tags <remote>` once for the sub-items
// that compare with the remote.
func (it *item) fetch(ctx context.Context, r *flow.Recorder) error {
	it.fetchOnce.Do(func() {
		_, it.fetchErr = it.git(ctx, "fetch", "--quiet", "--prune", "--tags", it.tgt.Code.Remote)
		if it.fetchErr == nil {
			r.Logf("git fetch --prune --tags %s: done", it.tgt.Code.Remote)
		}
	})
	return it.fetchErr
}

func (it *item) latestPulled(ctx context.Context, r *flow.Recorder) error {
	if err := it.checkout(); err != nil {
		return err
	}
	if err := it.fetch(ctx, r); err != nil {
		return err
	}
	upstream := it.tgt.Code.Remote + "/" + it.tgt.Code.Branch
	head, err := it.git(ctx, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	remote, err := it.git(ctx, "rev-parse", "--verify", "refs/remotes/"+upstream+"^{commit}")
	if err != nil {
		return fmt.Errorf("%s does not exist after the fetch (code.remote %q, code.branch %q): %w", upstream, it.tgt.Code.Remote, it.tgt.Code.Branch, err)
	}
	branch, _ := it.git(ctx, "symbolic-ref", "--quiet", "--short", "HEAD") // empty when detached
	r.Logf("HEAD %s (branch %q), %s %s", head, branch, upstream, remote)
	if head == remote {
		checklist.Evidence(r, "HEAD %s is %s after git fetch", short(head), upstream)
		return nil
	}
	counts, err := it.git(ctx, "rev-list", "--left-right", "--count", "HEAD..."+upstream)
	if err != nil {
		return err
	}
	var ahead, behind int
	if _, err := fmt.Sscan(counts, &ahead, &behind); err != nil {
		return fmt.Errorf("git rev-list --count: unexpected output %q", counts)
	}
	switch {
	case ahead > 0 && behind > 0:
		return fmt.Errorf("HEAD %s and %s %s have diverged (%d local commits not on %s, %d on %s not here): deploy exactly %s",
			short(head), upstream, short(remote), ahead, upstream, behind, upstream, upstream)
	case ahead > 0:
		return fmt.Errorf("HEAD %s is %d commit(s) ahead of %s %s: those commits are not on %s (unreviewed); push them through review or reset to %s",
			short(head), ahead, upstream, short(remote), it.tgt.Code.Branch, upstream)
	default:
		return fmt.Errorf("HEAD %s is %d commit(s) behind %s %s: run git pull", short(head), behind, upstream, short(remote))
	}
}

// CIStatus is what the test status source says about one commit.
type CIStatus struct {
	Commit string `json:"commit"`
	Status string `json:"status"`
	URL    string `json:"url,omitempty"`
}

// passing are the statuses that mean every test passed (GitHub's combined
// status says success).
var passing = map[string]bool{"passing": true, "passed": true, "success": true}

func (it *item) testsPassing(ctx context.Context, r *flow.Recorder) error {
	if err := it.checkout(); err != nil {
		return err
	}
	head, err := it.git(ctx, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	st, source, err := it.ciStatus(ctx, head)
	if err != nil {
		return err
	}
	r.Logf("%s: commit %s, status %q %s", source, st.Commit, st.Status, st.URL)
	if st.Commit == "" || !strings.HasPrefix(head, st.Commit) || len(st.Commit) < 7 {
		return fmt.Errorf("%s gives the status of commit %q, not of HEAD %s: the tests of HEAD have not been reported", source, st.Commit, short(head))
	}
	if !passing[strings.ToLower(st.Status)] {
		return fmt.Errorf("the tests of HEAD %s are %q, not passing (%s)%s", short(head), st.Status, source, suffix(" ", st.URL))
	}
	checklist.Evidence(r, "CI reports %q for HEAD %s (%s)", st.Status, short(head), source)
	return nil
}

// ciStatus reads the configured source: ci.statusFile, or the output of
// ci.statusCommand run in the checkout with {commit} replaced.
func (it *item) ciStatus(ctx context.Context, head string) (CIStatus, string, error) {
	var st CIStatus
	ci := it.tgt.CI
	switch {
	case ci.StatusFile != "":
		source := "ci.statusFile " + ci.StatusFile
		data, err := os.ReadFile(ci.StatusFile)
		if err != nil {
			return st, source, fmt.Errorf("no test status: %w", err)
		}
		if err := json.Unmarshal(data, &st); err != nil {
			return st, source, fmt.Errorf("%s is not {\"commit\": ..., \"status\": ...}: %w", source, err)
		}
		return st, source, nil
	case len(ci.StatusCommand) > 0:
		args := make([]string, len(ci.StatusCommand))
		for i, a := range ci.StatusCommand {
			args[i] = strings.ReplaceAll(a, "{commit}", head)
		}
		source := "ci.statusCommand " + strings.Join(args, " ")
		ctx, cancel := context.WithTimeout(ctx, StatusTimeout)
		defer cancel()
		cmd := proc.Command(ctx, args[0], args[1:]...)
		cmd.Dir = it.repo
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return st, source, fmt.Errorf("%s: %w: %s", source, err, it.tgt.Redact(strings.TrimSpace(stderr.String())))
		}
		if err := json.Unmarshal(stdout.Bytes(), &st); err != nil {
			return st, source, fmt.Errorf("%s printed %q, not {\"commit\": ..., \"status\": ...}: %w", source, truncate(stdout.String(), 200), err)
		}
		return st, source, nil
	}
	return st, "", fmt.Errorf("no test status source: set ci.statusFile or ci.statusCommand in %s", it.tgt.File)
}

func (it *item) noChanges(ctx context.Context, r *flow.Recorder) error {
	if err := it.checkout(); err != nil {
		return err
	}
	out, err := it.git(ctx, "status", "--porcelain=v1", "--untracked-files=normal")
	if err != nil {
		return err
	}
	if out == "" {
		checklist.Evidence(r, "git status: clean (nothing modified, staged or untracked in %s)", it.repo)
		return nil
	}
	lines := strings.Split(out, "\n")
	shown := lines
	if len(shown) > 10 {
		shown = shown[:10]
	}
	return fmt.Errorf("%d uncommitted change(s) in %s: %s%s; commit them through review or discard them (git stash / git checkout)",
		len(lines), it.repo, strings.Join(shown, ", "), map[bool]string{true: ", ...", false: ""}[len(lines) > 10])
}

func (it *item) tagReady(ctx context.Context, r *flow.Recorder) error {
	if err := it.checkout(); err != nil {
		return err
	}
	v := it.tgt.Version
	if v == "" {
		return fmt.Errorf("no VERSION given: run make preflight VERSION=v2.0.0 (or set %s)", target.VersionEnv)
	}
	head, err := it.git(ctx, "rev-parse", "HEAD")
	if err != nil {
		return err
	}
	atHead, err := it.git(ctx, "tag", "--points-at", "HEAD")
	if err != nil {
		return err
	}
	tagged, err := it.git(ctx, "rev-parse", "-q", "--verify", "refs/tags/"+v+"^{commit}")
	if err != nil {
		others := "none"
		if atHead != "" {
			others = strings.ReplaceAll(atHead, "\n", ", ")
		}
		return fmt.Errorf("tag %s does not exist (tags at HEAD %s: %s): git tag -a %s && git push %s %s",
			v, short(head), others, v, it.tgt.Code.Remote, v)
	}
	if tagged != head {
		return fmt.Errorf("tag %s points at %s, not at HEAD %s (tags at HEAD: %s): the checkout is not the release",
			v, short(tagged), short(head), orNone(strings.ReplaceAll(atHead, "\n", ", ")))
	}
	r.Logf("tag %s -> %s = HEAD", v, tagged)
	var problems []string
	if err := it.fetch(ctx, r); err != nil {
		problems = append(problems, err.Error())
	} else {
		remote, err := it.remoteTag(ctx, v)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case remote == "":
			problems = append(problems, fmt.Sprintf("tag %s is not on %s: git push %s %s", v, it.tgt.Code.Remote, it.tgt.Code.Remote, v))
		case remote != head:
			problems = append(problems, fmt.Sprintf("tag %s on %s points at %s, the local one at %s", v, it.tgt.Code.Remote, short(remote), short(head)))
		default:
			r.Logf("tag %s on %s -> %s", v, it.tgt.Code.Remote, remote)
		}
	}
	if f := it.tgt.Code.VersionFile; f != "" {
		declared, err := declaredVersion(filepath.Join(it.repo, f))
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case declared != strings.TrimPrefix(v, "v"):
			problems = append(problems, fmt.Sprintf("%s declares version %q, not %s: the tag and the code disagree", f, declared, strings.TrimPrefix(v, "v")))
		default:
			r.Logf("%s declares %s", f, declared)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	checklist.Evidence(r, "tag %s at HEAD %s, on %s%s", v, short(head), it.tgt.Code.Remote,
		suffix(", declared by ", it.tgt.Code.VersionFile))
	return nil
}

// remoteTag is the commit the remote's tag points at ("" when absent).
func (it *item) remoteTag(ctx context.Context, v string) (string, error) {
	out, err := it.git(ctx, "ls-remote", "--tags", it.tgt.Code.Remote, "refs/tags/"+v, "refs/tags/"+v+"^{}")
	if err != nil {
		return "", err
	}
	commit := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		// An annotated tag is listed twice: the tag object, then the
		// commit it points at (^{}); a lightweight one once.
		if f[1] == "refs/tags/"+v+"^{}" || commit == "" {
			commit = f[0]
		}
	}
	return commit, nil
}

// declaredVersion reads package.json's "version", or a plain file's
// content.
func declaredVersion(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("code.versionFile: %w", err)
	}
	if strings.HasSuffix(path, ".json") {
		var pkg struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(data, &pkg); err != nil {
			return "", fmt.Errorf("code.versionFile %s: %w", path, err)
		}
		return pkg.Version, nil
	}
	return strings.TrimPrefix(strings.TrimSpace(string(data)), "v"), nil
}

// checkout says whether code.repo is a git checkout.
func (it *item) checkout() error {
	if it.repo == "" {
		return fmt.Errorf("no checkout to verify: set code.repo in %s", it.tgt.File)
	}
	if _, err := os.Stat(filepath.Join(it.repo, ".git")); err != nil {
		return fmt.Errorf("code.repo %s is not a git checkout: %w", it.repo, err)
	}
	return nil
}

// git runs git in the checkout: never prompting, bounded by GitTimeout.
func (it *item) git(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, GitTimeout)
	defer cancel()
	cmd := proc.Command(ctx, "git", args...)
	cmd.Dir = it.repo
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0") // a fetch that needs a password fails, never waits
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s (in %s): %w: %s", strings.Join(args, " "), it.repo, err, it.tgt.Redact(strings.TrimSpace(stderr.String())))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func short(sha string) string {
	if len(sha) > 10 {
		return sha[:10]
	}
	return sha
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
