// Package gotestjson reads the output of `go test -json` (the test2json
// event stream) into per-test results: passed, failed or skipped, with the
// lines each test printed and the one line that says why it failed.
//
// It is how the runbook's gates are read after the fact: the go-live report
// (internal/report) and the JUnit enrichment (internal/junit) both read a
// gate's `<gate>.json` through it. A test that started but never ended (the
// binary crashed or timed out) has no outcome: it is never counted as
// passed, and neither is a skipped one.
//
// When a test fails, Message finds the line that says what was expected and
// what was seen: the "FAILED: ..." line flow.RunT writes, testify's
// "Error:" block, else the test's last logged line. Lines that are not
// JSON (a build error printed by go itself) are kept in Result.Stray.
package gotestjson
