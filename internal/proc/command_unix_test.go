//go:build unix

package proc_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/proc"
)

// grandchild is a shell that starts `sleep 300` in the background, prints
// its pid and waits for it: a migrator script and the tool it runs.
const grandchild = `sleep 300 & echo $!; wait`

// startGrandchild starts cmd (sh -c script) and returns the pid of the
// grandchild it started, which prints it first, and the rest of the
// output, which may be read for 30 seconds (a grandchild that outlived
// its group would never close it). The grandchild is killed when the test
// ends, whatever happened.
func startGrandchild(t *testing.T, cmd *exec.Cmd) (int, *bufio.Reader) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, out.(*os.File).SetReadDeadline(time.Now().Add(30*time.Second)))
	require.NoError(t, cmd.Start())
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	require.NoError(t, err, "the script's first line: the pid of the grandchild")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err, "the script printed %q, not a pid", line)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid, r
}

// alive says whether pid is a live process: a zombie is dead (only its
// reaping is left, which a container's init may do late or never).
func alive(pid int) (bool, string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return false, "gone"
	}
	if err != nil {
		// No /proc: kill -0 is all there is.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return false, "gone (kill -0: no such process)"
		}
		return true, "kill -0 succeeds"
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[0] != "Z" && f[0] != "X", "state " + f[0]
}

// A cancelled step's child goes with its own children: the grandchild is
// dead when Wait returns. exec.CommandContext alone (the runbook before
// issue 12) leaves it running, which is what this test would see if the
// group were not killed.
func TestCancelEndsTheWholeGroup(t *testing.T) {
	t.Run("exec.CommandContext alone leaves the grandchild", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, "sh", "-c", grandchild)
		cmd.WaitDelay = time.Second // the sleep keeps the stdout pipe open
		pid, _ := startGrandchild(t, cmd)
		cancel()
		_ = cmd.Wait()
		live, seen := alive(pid)
		assert.True(t, live, "sleep %d: expected still running without a process group, saw %s", pid, seen)
	})
	t.Run("proc.Command ends it", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := proc.Command(ctx, "sh", "-c", grandchild)
		pid, _ := startGrandchild(t, cmd)
		began := time.Now()
		cancel()
		err := cmd.Wait()
		require.Error(t, err, "a cancelled child reports it")
		live, seen := alive(pid)
		assert.False(t, live, "sleep %d (grandchild of a cancelled command): expected dead when Wait returns, saw %s", pid, seen)
		assert.Less(t, time.Since(began), proc.Grace, "everything exits on SIGTERM: no waiting for the grace (took %s)", time.Since(began))
	})
}

// A member that ignores SIGTERM is killed once the grace has passed, and
// Wait returns only then.
func TestCancelKillsWhatIgnoresSIGTERM(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := proc.Command(ctx, "sh", "-c", `trap "" TERM; `+grandchild)
	const grace = 300 * time.Millisecond
	cmd.WaitDelay = grace
	pid, _ := startGrandchild(t, cmd)
	began := time.Now()
	cancel()
	err := cmd.Wait()
	took := time.Since(began)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "the shell ignores SIGTERM: it ends by SIGKILL")
	ws := ee.Sys().(syscall.WaitStatus)
	assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "sh: expected killed by SIGKILL, saw %s", ee)
	live, seen := alive(pid)
	assert.False(t, live, "sleep %d ignoring SIGTERM: expected dead when Wait returns, saw %s", pid, seen)
	assert.GreaterOrEqual(t, took, grace, "SIGKILL only after the grace")
}

// make takes SIGINT, as from Ctrl-C in a terminal: the whole group gets it,
// the grandchild included.
func TestCommandSignalSendsItsSignalToTheGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// The grandchild (this test binary, reporting the signal it gets) runs
	// in the foreground: a shell's background child has SIGINT ignored.
	cmd := proc.CommandSignal(ctx, syscall.SIGINT, "sh", "-c", `"$0"; echo outer done`, os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=report")
	pid, r := startGrandchild(t, cmd)
	cancel()
	rest, _ := io.ReadAll(r)
	_ = cmd.Wait()
	assert.Contains(t, string(rest), "got SIGINT\n", "the grandchild %d: expected SIGINT from the cancel", pid)
}
