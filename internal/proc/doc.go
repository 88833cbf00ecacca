// Package proc is the runbook's side of issue 12's "Interruptions": SIGINT,
// SIGTERM and SIGHUP (a closed SSH session) bring the current step to a
// known state and journal it, and child processes run in their own process
// group and die with it.
//
// NotifyContext is the one place the runbook's commands catch those
// signals: the first cancels the context with an Interrupted cause, which
// the running step fails with and the journal keeps. Command replaces
// exec.CommandContext for every child the runbook starts (the migrator, the
// gates, make, pg_dump): when the context ends, the child's whole group is
// signalled and, after a grace period, killed, so a migrator script's own
// children or a go test gate's test binary do not outlive the step.
//
// When a step fails with "signal: killed" after an interruption, its
// child's group did not exit within the grace (cmd.WaitDelay, else Grace)
// after SIGTERM and was sent SIGKILL: look at what the child was doing in
// the step's output. proc needs Linux's /proc to tell a zombie from a live
// member; on other Unix systems a member counts until it is reaped.
package proc
