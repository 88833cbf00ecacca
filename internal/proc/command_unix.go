//go:build unix

package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/granter/runbook/internal/wait"
)

// inGroup puts cmd in a new process group that its Cancel signals whole.
// Cancel blocks until no member is left alive (or the grace has passed and
// SIGKILL was sent): exec.Cmd.Wait waits for Cancel, so a step's child is
// gone, children included, when its Run returns.
func inGroup(cmd *exec.Cmd, first syscall.Signal) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		if err := syscall.Kill(-pgid, first); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				return os.ErrProcessDone
			}
			return fmt.Errorf("%s to process group %d (%s): %w", Name(first), pgid, cmd.Path, err)
		}
		// A member stopped by SIGTTIN (a prompt for the terminal it is
		// not the foreground of) acts on the signal only once continued.
		_ = syscall.Kill(-pgid, syscall.SIGCONT)
		grace := cmd.WaitDelay
		if grace <= 0 {
			grace = Grace
		}
		werr := waitGone(pgid, filepath.Base(cmd.Path), Name(first), grace)
		if werr == nil {
			return nil
		}
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("%v; SIGKILL: %w", werr, err)
		}
		// SIGKILL is delivered at once but a process takes a moment to die
		// (longer in uninterruptible sleep, on a hung NFS mount say).
		if err := waitGone(pgid, filepath.Base(cmd.Path), "SIGKILL", KillWait); err != nil {
			return fmt.Errorf("%v; sent SIGKILL; %w", werr, err)
		}
		return fmt.Errorf("%v: sent SIGKILL", werr)
	}
}

// KillWait bounds the wait for a process group to die after SIGKILL.
const KillWait = 5 * time.Second

// waitGone waits until group pgid has no live member, for at most timeout.
func waitGone(pgid int, name, after string, timeout time.Duration) error {
	return wait.Poll(context.Background(), fmt.Sprintf("process group %d (%s) to exit after %s", pgid, name, after),
		50*time.Millisecond, timeout, func(context.Context) (bool, string, error) {
			live := liveMembers(pgid)
			return len(live) == 0, describeMembers(live), nil
		})
}

// liveMembers are the processes of group pgid that are not yet dead: a
// zombie is dead (its parent, or init, has only to reap it; in a container
// whose init does not reap, it stays forever). Read from /proc where there
// is one; elsewhere any member, zombie or not, counts.
func liveMembers(pgid int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return []string{"process group " + strconv.Itoa(pgid) + " (no /proc to tell its members)"}
	}
	var live []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, state, pg, ok := stat(pid)
		if ok && pg == pgid && state != "Z" && state != "X" {
			live = append(live, fmt.Sprintf("%d (%s, state %s)", pid, comm, state))
		}
	}
	return live
}

// stat reads the command name, state and process group of pid from
// /proc/<pid>/stat; ok is false when the process is gone.
func stat(pid int) (comm, state string, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", "", 0, false
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 3 {
		return "", "", 0, false
	}
	pgid, err = strconv.Atoi(f[2])
	return string(b[open+1 : end]), f[0], pgid, err == nil
}

func describeMembers(live []string) string {
	if len(live) == 0 {
		return "no live member"
	}
	return fmt.Sprintf("%d still alive: %s", len(live), strings.Join(live, ", "))
}
