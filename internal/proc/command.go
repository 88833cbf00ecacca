package proc

import (
	"context"
	"os/exec"
	"syscall"
	"time"
)

// Grace is how long a child's process group has, after the first signal,
// to exit on its own before it is killed, unless the caller sets
// cmd.WaitDelay (then that is the grace, and again the time its output
// pipes may stay open after the kill).
const Grace = 10 * time.Second

// Command is exec.CommandContext for every child the runbook starts: the
// child leads its own process group, and when ctx ends the whole group
// gets SIGTERM, then SIGKILL once the grace has passed with a member still
// alive. cmd.Wait returns only when no member of the group is left.
func Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return CommandSignal(ctx, syscall.SIGTERM, name, args...)
}

// CommandSignal is Command with another first signal: make takes SIGINT,
// as from a terminal's Ctrl-C, and deletes the targets it was building.
func CommandSignal(ctx context.Context, first syscall.Signal, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = Grace
	inGroup(cmd, first)
	return cmd
}
