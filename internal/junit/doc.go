// Package junit makes the gates' JUnit XML carry their evidence, so that a
// CI page says why a gate failed without anyone opening the logs.
//
// Every gate (preflight, smoke, postdeploy, rollback, monitor) runs as
//
//	go tool gotestsum --junitfile RUN/<gate>.junit.xml --jsonfile RUN/<gate>.json -- -count=1 [-tags=ENV] ./<gate>
//
// with no automatic reruns (no --rerun-fails: a gate that passes on the
// second try has not passed). gotestsum writes message="Failed" on every
// failure and leaves passing testcases empty; Enrich then rewrites the file
// so that:
//
//   - a failing testcase's message is its evidence, the line the check
//     wrote ("expected X, saw Y" with the URL and status, the query, value
//     and threshold, the deployment and its condition); a test that failed
//     because a subtest did says which one and why;
//   - a skipped testcase's message is the reason it did not run (a skipped
//     check is never a pass), its full output below it;
//   - a passing testcase carries what it saw in <system-out>, from the
//     gate's go-test JSON;
//   - each testsuite has the errors attribute that strict readers (Jenkins)
//     require, and testcase properties (t.Attr) become system-out lines,
//     since no reader accepts them there.
//
// Enrich is idempotent. `go run ./cmd/runbook-report junit RUN` enriches
// every gate of a run folder; `make report` does it too. The result
// validates against testdata/junit.xsd (the JUnit format CI reporters read)
// with xmllint.
package junit
