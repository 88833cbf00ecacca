// Package mutation makes the mutants of `make mutation`: changes to the
// reference services' code made the way real regressions are made (a
// condition negated or dropped, a boundary shifted, a constant changed, a
// statement removed, two arguments swapped, an early return), each a whole
// file written elsewhere and compiled in with `go build -overlay`, so the
// tree is never touched. Each mutant has a stable id, file:func:operator:n
// (the n-th site of that operator in that function), which survives edits
// elsewhere in the file; equivalent mutants are listed by id with a reason.
//
// It generates, selects and scores; cmd/mutation runs the mutants against
// the smoke flows and the postdeploy checks.
package mutation
