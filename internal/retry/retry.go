// Package retry is the rollback rule's "fails, and fails again on an immediate
// retry": a core check (a smoke flow, Step 4.3's health checks, Step 4.4's
// critical endpoints) run again at once when it fails, and the verdict on
// the release that gives; a failure on the runbook's own side is
// Inconclusive, never a rollback.
package retry

import (
	"context"
	"errors"
	"net"

	"github.com/granter/runbook/internal/httpcheck"
)

// Verdict is what a core check (a smoke flow, Step 4.3's health checks,
// Step 4.4's critical endpoints) says about the release once retried.
type Verdict string

const (
	// Passed: it passed the first time.
	Passed Verdict = "passed"
	// Flaky: it failed, and passed on an immediate retry: intermittent,
	// which Step 4.5's error rate judges. Not "core functionality broken".
	Flaky Verdict = "flaky"
	// Broken: it failed, and failed again on an immediate retry, with at
	// least one answer from the platform: core functionality broken.
	Broken Verdict = "broken"
	// Inconclusive: the failure was on the runbook's side (it was stopped,
	// or nothing answered at all: DNS, dial, TLS to every target). It says
	// nothing about the release: never a rollback, a person decides.
	Inconclusive Verdict = "inconclusive"
)

// Retried is a core check run by Once.
type Retried struct {
	Verdict Verdict
	// First is the first run's error, Again the retry's (nil when it
	// passed or did not run).
	First, Again error
}

// Err is the error to report: both runs' errors when it failed.
func (r Retried) Err() error {
	switch r.Verdict {
	case Passed, Flaky:
		return nil
	}
	if r.Again == nil {
		return r.First
	}
	return errors.Join(r.First, errors.Join(errors.New("and on the immediate retry:"), r.Again))
}

// Once runs a core check and, when it fails, runs it again at once: the
// rule's "fails, and fails again on an immediate retry". ctx ending
// (Ctrl-C, SIGTERM, the runbook's deadline) before a verdict, or both runs
// failing on the runbook's side (RunbookSide), is Inconclusive.
func Once(ctx context.Context, run func(context.Context) error) Retried {
	first := run(ctx)
	if first == nil {
		return Retried{Verdict: Passed}
	}
	if ctx.Err() != nil {
		return Retried{Verdict: Inconclusive, First: first}
	}
	again := run(ctx)
	switch {
	case again == nil:
		return Retried{Verdict: Flaky, First: first}
	case ctx.Err() != nil, RunbookSide(first) && RunbookSide(again):
		return Retried{Verdict: Inconclusive, First: first, Again: again}
	}
	return Retried{Verdict: Broken, First: first, Again: again}
}

// Classified is an error that says itself whether it is on the runbook's
// side: for an error rewritten from its cause (secrets redacted), which
// must not keep the cause to unwrap.
type Classified interface {
	error
	RunbookSide() bool
}

// RunbookSide reports whether a check's error says nothing about the
// release: the runbook was stopped (context canceled), or every request
// failed before any target answered (httpcheck.UnreachableError: DNS,
// dial, TLS; a net dial or DNS error from another client, such as the
// database's). A joined error is on the runbook's side only when every part
// is: one target that answered wrongly makes it the release's failure.
// An error that classified itself (a Classified, such as a redacted
// error that keeps no cause) is taken at its word.
func RunbookSide(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case Classified:
		return e.RunbookSide()
	case interface{ Unwrap() []error }:
		parts := e.Unwrap()
		for _, p := range parts {
			if p != nil && !RunbookSide(p) {
				return false
			}
		}
		return len(parts) > 0
	case *httpcheck.UnreachableError, *net.DNSError:
		return true
	case *net.OpError:
		return e.Op == "dial" // no connection was made: a database, a listing
	}
	if err == context.Canceled {
		return true
	}
	// Walk a wrapper chain by hand (errors.As would search every branch of
	// a joined error below it and find one unreachable target among
	// answering ones).
	return RunbookSide(errors.Unwrap(err))
}
