package flow_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/granter/runbook/internal/flow"
)

// A flow is ordered steps and a cleanup. Run reports which step failed and
// why; the steps after it are not run, and the cleanup always runs.
func ExampleRun() {
	var userID string
	f := flow.Flow{
		Name: "auth",
		Steps: []flow.Step{
			{Name: "register", Run: func(ctx context.Context, r *flow.Recorder) error {
				userID = "42"
				r.Record("POST /auth/register", "201, user "+userID)
				return nil
			}},
			{Name: "login", Run: func(ctx context.Context, r *flow.Recorder) error {
				return errors.New("POST /auth/login: status 401, want 200")
			}},
			{Name: "me", Run: func(ctx context.Context, r *flow.Recorder) error { return nil }},
		},
		Cleanup: func(ctx context.Context, r *flow.Recorder) error {
			r.Logf("deleted user %s", userID)
			return nil
		},
	}
	res := flow.Run(context.Background(), f)
	fmt.Println(res.Err())
	for _, s := range res.Steps {
		fmt.Println(s.Name, s.Status)
	}
	fmt.Println(res.Cleanup)
	// Output:
	// auth/login: POST /auth/login: status 401, want 200
	// register passed
	// login failed
	// me not run
	// [deleted user 42]
}
