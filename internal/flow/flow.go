package flow

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Defaults.
const (
	// DefaultTimeout bounds a whole flow when Flow.Timeout is zero.
	DefaultTimeout = 5 * time.Minute
	// CleanupTimeout bounds the cleanup, which runs on a fresh context so a
	// flow that ran out of time still deletes what it created.
	CleanupTimeout = 30 * time.Second
)

// Flow is one runbook flow: ordered steps and the cleanup of what they
// created. A Flow holds the state its steps share, so it runs once: make a
// new one (the flow package's New) for every run.
type Flow struct {
	// Name is the flow as the runbook says it: auth, search, scraper, ia, health.
	Name string
	// Steps run in order; the first that fails stops the rest.
	Steps []Step
	// Cleanup, when not nil, always runs after the steps, even when one failed
	// or the flow ran out of time. It deletes what the steps created and says
	// what it did. An error from it fails the flow.
	Cleanup func(ctx context.Context, r *Recorder) error
	// Timeout bounds the steps together (DefaultTimeout when zero). Each
	// network call also has its own, shorter, deadline.
	Timeout time.Duration
	// Redact is applied to every line recorded and every error reported
	// (pass tgt.Redact). Nil: nothing is redacted.
	Redact func(string) string
	// NotApplicable, when set, says whether the target's file declares a
	// step not applicable (target.NotApplicableStep) and how to show it. A
	// declared step that skips is NotApplicable, with that text; one that
	// is not declared stays Skipped. A declared step that runs is judged
	// as usual: the declaration never turns a failure into anything else.
	NotApplicable func(step string) (shown string, declared bool)
}

// Step is one line of the flow: it does something, records what it did and
// saw, and returns an error saying expected vs seen when the result is wrong.
type Step struct {
	// Name reads like the runbook: register, login, me, ... It is the
	// subtest name (TestAuth/register).
	Name string
	Run  func(ctx context.Context, r *Recorder) error
	// Independent: the step needs nothing from the steps before it (one
	// health probe among others). It runs even when an earlier step failed,
	// and its own failure does not stop the steps after it.
	Independent bool
}

// Recorder collects the "did X, saw Y" lines of one step. It is safe for
// concurrent use.
type Recorder struct {
	mu     sync.Mutex
	lines  []string
	sink   func(string) // RunT: t.Log of the step's subtest
	redact func(string) string
}

// Logf records one line, as fmt.Sprintf formats it.
func (r *Recorder) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if r.redact != nil {
		line = r.redact(line)
	}
	r.mu.Lock()
	r.lines = append(r.lines, line)
	sink := r.sink
	r.mu.Unlock()
	if sink != nil {
		sink(line)
	}
}

// Record records what the step did and what it saw.
func (r *Recorder) Record(did, saw string) { r.Logf("did %s; saw %s", did, saw) }

// Lines returns what was recorded so far.
func (r *Recorder) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// SkipError says a step does not apply to this target (a capability it
// lacks): the step is reported as skipped, with the reason, never as passed.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "not applicable: " + e.Reason }

// NotApplicableMark starts the message of a step declared not applicable,
// in go test's skip output and in flow results: the readers of go test
// -json (the checklist's smoke record, the go-live report) recognise it.
const NotApplicableMark = "NOT APPLICABLE"

// Skip returns a *SkipError for a step to return.
func Skip(format string, args ...any) error {
	return &SkipError{Reason: fmt.Sprintf(format, args...)}
}

// Status is what became of a step.
type Status string

// Step statuses. NotRun means an earlier step failed: the step proves
// nothing and is never counted as passed.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	NotRun  Status = "not run"
	// NotApplicable: the step skipped and the target's file declares it
	// cannot run there (with why and where it is verified instead). Not a
	// pass, not a failure.
	NotApplicable Status = "not applicable"
)

// StepResult is one step's outcome.
type StepResult struct {
	Name     string
	Status   Status
	Err      error // Failed: what was expected and what was seen; Skipped: why
	Lines    []string
	Duration time.Duration
}

// Result is a whole flow's outcome.
type Result struct {
	Flow       string
	Steps      []StepResult
	Cleanup    []string // what the cleanup did
	CleanupErr error
	Duration   time.Duration
}

// Failed reports whether a step or the cleanup failed.
func (r Result) Failed() bool { return r.Err() != nil }

// FailedStep is the first step that failed, or "" when none did.
func (r Result) FailedStep() string {
	for _, s := range r.Steps {
		if s.Status == Failed {
			return s.Name
		}
	}
	return ""
}

// Err says why the flow failed, "<flow>/<step>: <error>", the cleanup's
// failure joined; nil when it passed.
func (r Result) Err() error {
	var errs []error
	for _, s := range r.Steps {
		if s.Status == Failed {
			errs = append(errs, fmt.Errorf("%s/%s: %w", r.Flow, s.Name, s.Err))
		}
	}
	if r.CleanupErr != nil {
		errs = append(errs, fmt.Errorf("%s/cleanup: %w", r.Flow, r.CleanupErr))
	}
	return errors.Join(errs...)
}

// String summarises the flow in one line per step.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s):", r.Flow, r.Duration.Round(time.Millisecond))
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "\n  %-8s %s", s.Status, s.Name)
		if s.Err != nil {
			fmt.Fprintf(&b, ": %v", s.Err)
		}
	}
	if r.CleanupErr != nil {
		fmt.Fprintf(&b, "\n  %-8s cleanup: %v", Failed, r.CleanupErr)
	}
	return b.String()
}

// Run runs the flow without a testing.T (fault tests, the deploy CLI): the
// steps in order until one fails, then the cleanup, always. A panicking
// step or cleanup fails with the panic and its stack.
func Run(ctx context.Context, f Flow) Result {
	start := time.Now()
	res := Result{Flow: f.Name}
	sctx, cancel := context.WithTimeoutCause(ctx, f.timeout(),
		fmt.Errorf("flow %s ran out of time (%s)", f.Name, f.timeout()))
	defer cancel()
	failed := ""
	for _, st := range f.Steps {
		if failed != "" && !st.Independent {
			res.Steps = append(res.Steps, StepResult{Name: st.Name, Status: NotRun,
				Err: fmt.Errorf("not run: step %s failed before it", failed)})
			continue
		}
		rec := &Recorder{redact: f.Redact}
		t0 := time.Now()
		err := protect(func() error { return st.Run(sctx, rec) })
		sr := StepResult{Name: st.Name, Lines: rec.Lines(), Duration: time.Since(t0)}
		sr.Status, sr.Err = outcome(f, st.Name, err)
		if sr.Status == Failed && !st.Independent {
			failed = st.Name
		}
		res.Steps = append(res.Steps, sr)
	}
	if f.Cleanup != nil {
		rec := &Recorder{redact: f.Redact}
		res.CleanupErr = runCleanup(ctx, f, rec)
		res.Cleanup = rec.Lines()
	}
	res.Duration = time.Since(start)
	return res
}

func (f Flow) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultTimeout
}

// outcome classifies a step's error.
func outcome(f Flow, step string, err error) (Status, error) {
	var skip *SkipError
	switch {
	case err == nil:
		return Passed, nil
	case errors.As(err, &skip):
		if f.NotApplicable != nil {
			if shown, ok := f.NotApplicable(step); ok {
				if !strings.HasPrefix(shown, NotApplicableMark) {
					shown = NotApplicableMark + ": " + shown
				}
				return NotApplicable, fmt.Errorf("%s (the step said: %s)", shown, skip.Reason)
			}
		}
		return Skipped, err
	default:
		return Failed, redactErr(f, err)
	}
}

// runCleanup runs the cleanup on a context that outlives the flow's own
// deadline or cancellation, bounded by CleanupTimeout.
func runCleanup(ctx context.Context, f Flow, rec *Recorder) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
	defer cancel()
	return redactErr(f, protect(func() error { return f.Cleanup(cctx, rec) }))
}

// redactErr keeps the error's type (errors.As still works) only when
// redaction changes nothing; otherwise it returns the redacted text.
func redactErr(f Flow, err error) error {
	if err == nil || f.Redact == nil {
		return err
	}
	if msg := f.Redact(err.Error()); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// protect turns a panic into an error carrying its stack.
func protect(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn()
}
