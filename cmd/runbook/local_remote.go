//go:build staging || prod

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/target"
)

// The staging and prod binaries do not link the local platform: `runbook
// local` says so and which binary has it.
func init() {
	register(Command{Name: "local", Order: 50, Summary: "not in this build (" + target.Env + "): the local runbook is in the untagged build (bin/runbook-local, make local)",
		Run: func(_ context.Context, _ []string, _, stderr io.Writer) int {
			fmt.Fprintf(stderr, "runbook local: not available in the %s build, which does not link the local platform; use bin/runbook-local (make local)\n", target.Env)
			return exitcode.Config
		}})
}
