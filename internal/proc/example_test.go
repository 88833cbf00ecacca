//go:build unix

package proc_test

import (
	"context"
	"fmt"
	"os"

	"github.com/granter/runbook/internal/proc"
)

// A child the runbook starts: used exactly like exec.CommandContext. When
// ctx ends, the child and everything it started get SIGTERM, then SIGKILL
// after the grace.
func ExampleCommand() {
	ctx, stop := proc.NotifyContext(context.Background(), os.Stderr, "runbook")
	defer stop()
	out, err := proc.Command(ctx, "sh", "-c", "echo migrated 20260101_add_orders").Output()
	if err != nil {
		fmt.Println("migrator:", err)
		return
	}
	fmt.Print(string(out))
	// Output: migrated 20260101_add_orders
}
