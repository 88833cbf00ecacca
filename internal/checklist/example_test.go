package checklist_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
)

// An item is one check per sub-item, in the runbook's words; every step is
// independent, so a failing sub-item hides nothing. In a test, run it with
// flow.RunT(t, f): TestFinalCodeVerification/Latest_code_pulled, ...
func ExampleFlow() {
	var head string
	f := checklist.Flow(nil, 4, map[string]checklist.Check{
		"Latest code pulled": func(ctx context.Context, r *flow.Recorder) error {
			head = "1a2b3c4d5e"
			checklist.Evidence(r, "HEAD %s is origin/main after git fetch", head)
			return nil
		},
		"All tests passing": func(ctx context.Context, r *flow.Recorder) error {
			return fmt.Errorf("the tests of HEAD %s are %q, not passing", head, "failing")
		},
		"No uncommitted changes": func(ctx context.Context, r *flow.Recorder) error {
			return errors.New("2 uncommitted change(s): M src/index.ts, ?? notes.txt")
		},
		"Version tag ready": func(ctx context.Context, r *flow.Recorder) error {
			if head == "" {
				return checklist.NotChecked("no commit: %q failed", "Latest code pulled")
			}
			checklist.Evidence(r, "tag v2.0.0 at HEAD %s", head)
			return nil
		},
	})
	res := flow.Run(context.Background(), f)
	for _, s := range res.Steps {
		fmt.Printf("%-22s %s\n", s.Name, s.Status)
	}
	// Output:
	// Latest code pulled     passed
	// All tests passing      failed
	// No uncommitted changes failed
	// Version tag ready      passed
}
