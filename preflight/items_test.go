package preflight_test

import (
	"testing"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/preflight"
)

// TestEveryItemIsBuilt: the binary's preflight gate runs
// preflight.Item for every checklist item; one missing, or named by
// another item's flow, would leave a blocker no test shows.
func TestEveryItemIsBuilt(t *testing.T) {
	for i, it := range checklist.Items {
		f := preflight.Item(tgt, it.Test, preflight.Options{})
		if len(f.Steps) != len(it.Subs) {
			t.Errorf("item %d %s: preflight.Item built flow %q with %d steps, want its %d sub-items %q", i+1, it.Test, f.Name, len(f.Steps), len(it.Subs), it.Subs)
		}
	}
}
