// Package evidence writes a gate that ran in this process (the smoke
// flows, the postdeploy checks, the preflight items: the same library code
// their `go test` packages run) as `go test` would have recorded it: the
// run folder's <gate>.json in `go test -json` event format
// (internal/gotestjson reads it, checklist.Read for preflight) and
// <gate>.junit.xml (internal/junit), so that the go-live report, the
// rollback and CI read them unchanged.
//
// A flow is written as flow.RunT writes it (one subtest per step, "FAILED:
// ...", "SKIPPED, not passed: ...", "NOT RUN: ..."); a single check as one
// test. The files are rewritten whole after every test, so an interrupted
// gate leaves a readable file naming what finished.
package evidence
