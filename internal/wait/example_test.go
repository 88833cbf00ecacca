package wait_test

import (
	"context"
	"fmt"
	"time"

	"github.com/granter/runbook/internal/wait"
)

// A wait that never sees its condition says what it waited for and the
// last state it saw.
func ExamplePoll() {
	ctx := context.Background()
	err := wait.Poll(ctx, "job 42 to finish", 10*time.Millisecond, 50*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			return false, "status=running pages_fetched=3", nil
		})
	fmt.Println(err)
	// Output: waiting for job 42 to finish: timed out after 50ms; last seen: status=running pages_fetched=3
}
