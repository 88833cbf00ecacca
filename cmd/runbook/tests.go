package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/phase4"
)

// runbook tests GATE prints the go test -run pattern of a Phase 4 gate
// (internal/phase4), so make smoke and make postdeploy run the same tests
// as make deploy without writing their names again.
func init() {
	register(Command{Name: "tests", Order: 40, Summary: "the go test -run pattern of a Phase 4 gate: tests smoke | tests postdeploy",
		Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			var gates []string
			for g := range phase4.Gates {
				gates = append(gates, g)
			}
			sort.Strings(gates)
			if len(args) != 1 {
				fmt.Fprintf(stderr, "runbook tests: want one gate (%s), got %d arguments\n", strings.Join(gates, " | "), len(args))
				return exitcode.Config
			}
			tests, ok := phase4.Gates[args[0]]
			if !ok {
				fmt.Fprintf(stderr, "runbook tests: no gate %q: want %s\n", args[0], strings.Join(gates, " | "))
				return exitcode.Config
			}
			fmt.Fprintln(stdout, phase4.RunPattern(tests()))
			return exitcode.OK
		}})
}
