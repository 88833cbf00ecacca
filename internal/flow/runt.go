package flow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// RunT runs the flow as the test t: each step is a subtest named like the
// runbook (TestAuth/register, TestAuth/login, ...), run in order. The first
// step that fails stops the rest: they are reported as skipped with
// "NOT RUN", never as passed, and the test fails. The cleanup is registered
// with t.Cleanup before the first step runs, so it runs whatever happens;
// its failure fails the test. Its result is never cached (Uncached).
func RunT(t *testing.T, f Flow) {
	t.Helper()
	Uncached(t)
	if f.Cleanup != nil {
		t.Cleanup(func() {
			rec := &Recorder{redact: f.Redact, sink: func(line string) { t.Log("cleanup: " + line) }}
			// t.Context is already cancelled here; runCleanup detaches from it.
			if err := runCleanup(t.Context(), f, rec); err != nil {
				t.Errorf("%s/cleanup failed: %v", f.Name, err)
			}
		})
	}
	ctx, cancel := context.WithTimeoutCause(t.Context(), f.timeout(),
		fmt.Errorf("flow %s ran out of time (%s)", f.Name, f.timeout()))
	defer cancel()
	start := time.Now()
	failed, anyFailed := "", false
	var notRun []string
	for _, st := range f.Steps {
		if failed != "" && !st.Independent {
			notRun = append(notRun, st.Name)
			t.Run(st.Name, func(t *testing.T) {
				t.Skipf("NOT RUN: step %q failed before it, so this step proves nothing", failed)
			})
			continue
		}
		ok := t.Run(st.Name, func(t *testing.T) {
			rec := &Recorder{redact: f.Redact, sink: func(line string) { t.Log(line) }}
			status, err := outcome(f, st.Name, protect(func() error { return st.Run(ctx, rec) }))
			switch status {
			case NotApplicable:
				t.Skipf("%v", err)
			case Skipped:
				var skip *SkipError
				errors.As(err, &skip)
				t.Skipf("SKIPPED, not passed: %s", skip.Reason)
			case Failed:
				t.Fatalf("FAILED: %v", err)
			}
		})
		if !ok {
			anyFailed = true
			if !st.Independent {
				failed = st.Name
			}
		}
	}
	if anyFailed && failed == "" {
		t.Logf("flow %s FAILED (independent steps) after %s", f.Name, time.Since(start).Round(time.Millisecond))
		return
	}
	if failed != "" {
		t.Logf("flow %s FAILED at step %s after %s", f.Name, failed, time.Since(start).Round(time.Millisecond))
		if len(notRun) > 0 {
			t.Logf("NOT RUN (they prove nothing about this deployment): %s", strings.Join(notRun, ", "))
		}
		return
	}
	t.Logf("flow %s: %d steps passed in %s", f.Name, len(f.Steps), time.Since(start).Round(time.Millisecond))
}
