package checklist

import (
	"strings"
	"testing"

	"github.com/granter/runbook/internal/flow"
)

// AssertOnlyFails is the assertion of every fault test of a checklist
// item: in res (flow.Run of the item with one fault injected) the sub-item
// sub failed with an error containing every string of want (the cause,
// named), and every other sub-item passed.
func AssertOnlyFails(tb testing.TB, res flow.Result, sub string, want ...string) {
	tb.Helper()
	found := false
	for _, s := range res.Steps {
		switch {
		case s.Name == sub:
			found = true
			if s.Status != flow.Failed {
				tb.Errorf("%s: %s, want failed (the fault it guards is on)", sub, s.Status)
				continue
			}
			for _, w := range want {
				if !strings.Contains(s.Err.Error(), w) {
					tb.Errorf("%s failed with %q; want the message to name %q", sub, s.Err, w)
				}
			}
			tb.Logf("%s FAILED as it should: %v", sub, s.Err)
		case s.Status != flow.Passed:
			tb.Errorf("%s: %s (%v), want passed: the fault is not its business", s.Name, s.Status, s.Err)
		}
	}
	if !found {
		tb.Errorf("no sub-item %q in %s", sub, res.Flow)
	}
}

// AssertAllPass fails tb with every sub-item of res that did not pass.
func AssertAllPass(tb testing.TB, res flow.Result) {
	tb.Helper()
	for _, s := range res.Steps {
		if s.Status != flow.Passed {
			tb.Errorf("%s / %s: %s: %v", res.Flow, s.Name, s.Status, s.Err)
		}
	}
}
