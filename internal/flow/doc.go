// Package flow is the vocabulary of the runbook's ordered checks: a Flow is
// named steps run in order and a cleanup that always runs, as in Step 4.1
// ("Must pass all 5 flows: Auth flow (register, login), ...").
//
// Each step records what it did and what it saw (Recorder), and returns an
// error saying what was expected and what was seen. The first failing step
// stops the flow; the steps after it are reported as NOT RUN, never as
// passed. The cleanup deletes what the steps created, on a fresh deadline,
// even when a step failed or the flow ran out of time; a failed cleanup
// fails the flow.
//
// Two ways to run a flow:
//   - RunT(t, f) in a test: one subtest per step (TestAuth/register, ...),
//     the cleanup registered with t.Cleanup;
//   - Run(ctx, f) anywhere else (fault tests, the deploy CLI): a Result
//     telling which step failed with which error.
//
// When a flow fails, read the failed step's message: it names the URL, the
// status, expected vs seen and an excerpt of the body. The lines recorded
// before it say what the flow had done up to there.
package flow
