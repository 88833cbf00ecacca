package proc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Signals are the signals that interrupt a run: Ctrl-C, a stop request,
// and a closed terminal or SSH session.
var Signals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalNames name the signals the runbook sends or catches, with what
// they usually mean.
var signalNames = map[os.Signal][2]string{
	os.Interrupt:    {"SIGINT", "Ctrl-C"},
	syscall.SIGTERM: {"SIGTERM", "asked to stop"},
	syscall.SIGHUP:  {"SIGHUP", "the terminal or SSH session closed"},
	syscall.SIGKILL: {"SIGKILL", "killed"},
}

// Name is a signal's name: "SIGHUP".
func Name(s os.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n[0]
	}
	return s.String()
}

// Describe names a signal the way an operator knows it: "SIGHUP (the
// terminal or SSH session closed)".
func Describe(s os.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n[0] + " (" + n[1] + ")"
	}
	return s.String()
}

// Interrupted is the cause of a context that NotifyContext cancelled: the
// step running at the time fails with it, and its journal entry says so.
type Interrupted struct{ Signal os.Signal }

func (e Interrupted) Error() string { return "interrupted by " + Describe(e.Signal) }

// NotifyContext returns a context cancelled, with an Interrupted cause, by
// the first of Signals to arrive, and says on w (as prog) which signal it
// was and that the current step is being brought to a known state.
//
// Unlike signal.NotifyContext, the signals stay caught until stop: a
// second Ctrl-C, or the SIGTERM that often follows a SIGHUP when a session
// is torn down, must not kill the runbook halfway through bringing the
// step to a known state. Each one prints how to stop at once instead.
func NotifyContext(parent context.Context, w io.Writer, prog string) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, Signals...)
	done := make(chan struct{})
	go func() {
		caught := false
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				if !caught {
					caught = true
					fmt.Fprintf(w, "\n%s: %s: bringing the current step to a known state and journaling it, then stopping\n", prog, Describe(s))
					cancel(Interrupted{Signal: s})
					continue
				}
				fmt.Fprintf(w, "%s: %s: still bringing the current step to a known state; `kill -KILL %d` stops at once and leaves that step's state unknown\n", prog, Describe(s), os.Getpid())
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(context.Canceled)
		})
	}
}
