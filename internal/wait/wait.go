package wait

import (
	"context"
	"errors"
	"fmt"
	"time"

	kwait "k8s.io/apimachinery/pkg/util/wait"
)

// Check is one look at the awaited condition. done says it holds; lastSeen
// is the state seen this time (kept for the timeout message, so it should
// name what it shows: "status \"degraded\"", "2 of 3 replicas ready"). A
// transient failure (a refused connection while a service starts) belongs
// in lastSeen with done false; err stops the wait at once and is returned
// as it is.
type Check func(ctx context.Context) (done bool, lastSeen string, err error)

// TimeoutError is a wait that ran out of time (or whose context ended):
// what it waited for, for how long, and the last state it saw.
type TimeoutError struct {
	Name     string        // what was awaited: "deployment granter-api rollout"
	Timeout  time.Duration // the wait's own limit
	Waited   time.Duration // how long it actually waited
	LastSeen string        // the last state seen
	// Err is context.DeadlineExceeded when the wait's own limit passed,
	// else the cause of the caller's context ending first.
	Err error
	// Early says the caller cancelled the wait before its limit.
	Early bool
}

func (e *TimeoutError) Error() string {
	how := fmt.Sprintf("timed out after %s", e.Timeout)
	if e.Early {
		how = fmt.Sprintf("stopped after %s of %s: %v", e.Waited.Round(time.Millisecond), e.Timeout, e.Err)
	}
	return fmt.Sprintf("waiting for %s: %s; last seen: %s", e.Name, how, e.LastSeen)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

const nothingSeen = "nothing (no look finished)"

// stopped marks an error returned by the Check, to tell it from the
// poller's own timeout.
type stopped struct{ err error }

func (s stopped) Error() string { return s.err.Error() }

// Poll calls check at once and then every interval until it says done,
// returns an error (returned unchanged), or timeout passes or ctx ends
// (a *TimeoutError naming name and the last state seen). When ctx has an
// earlier deadline, that is the wait's limit. A look cut short by the
// deadline does not replace the last state seen with the deadline, nor does
// an error from a look that ended at the deadline stop the wait with it.
func Poll(ctx context.Context, name string, interval, timeout time.Duration, check Check) error {
	start := time.Now()
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl).Round(time.Millisecond)
	}
	last := nothingSeen
	err := kwait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		done, seen, err := check(ctx)
		if err != nil {
			if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
				// The look ran into the deadline (a dial given the
				// deadline as its own times out a moment before ctx says
				// so): its error is the deadline's, and the wait timed
				// out with the last state a whole look saw.
				return false, nil
			}
			return false, stopped{err}
		}
		if ctx.Err() == nil || last == nothingSeen {
			last = seen
		}
		return done, nil
	})
	var s stopped
	switch {
	case err == nil:
		return nil
	case errors.As(err, &s):
		return s.err
	}
	e := &TimeoutError{Name: name, Timeout: timeout, Waited: time.Since(start), LastSeen: last, Err: context.DeadlineExceeded}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e.Early, e.Err = true, context.Cause(ctx)
	}
	return e
}
