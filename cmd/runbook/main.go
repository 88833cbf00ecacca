// Command runbook is the runbook's deployment steps as commands, one
// binary with a subcommand per action (README "Exit codes" for what each
// exit code means):
//
//	runbook deploy  --version v2.0.0   the whole sequence: preflight, Phases 1-4 (make deploy)
//	runbook backup                     Step 1.1: final backup, checksum, verified by restore
//	runbook notify  --version v2.0.0   Step 1.2: tell the team channel (webhook)
//	runbook drain                      Steps 1.3-1.4: scale backend-core to 0, no session left
//	runbook migrate                    Steps 2.1-2.3: run the migrations, verify, database health
//	runbook rollout --version v2.0.0   Phase 3: set image, wait for the rollout, health, per service
//	runbook report  RUN                the go-live report of a run folder
//
// Every action prints the step, the runbook's equivalent manual command,
// its progress and its result, and appends to the run journal
// (<run folder>/journal.jsonl: what was done, when, with what). Common
// flags: --run-dir (default $RUNBOOK_RUN_DIR, else runs/<UTC time>-<env>),
// --dry-run (print the plan, touch nothing), --confirm=<word> (or
// CONFIRM=<word>: staging and prod refuse every change without it),
// --version (default $RUNBOOK_VERSION).
//
// The build tag picks the environment, as everywhere in the project:
// `go build -tags=prod ./cmd/runbook` reads environments/prod.yaml. This
// binary never links the local fixtures (cmd/runbook-local does).
//
// Subcommands register themselves: a file of this package adds one with
//
//	func init() { register(Command{Name: "rollback", Order: 20, Summary: "...", Run: rollbackMain}) }
//
// and may use loadTarget, runFlags and openRun below.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/proc"
)

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line for the usage
	// Order places it in the usage (the runbook's order); equal orders
	// sort by name.
	Order int
	// Run runs it with the arguments after its name and returns the exit
	// code (internal/exitcode).
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]Command{}

// register adds a subcommand; a name registered twice is a bug.
func register(c Command) {
	if _, dup := commands[c.Name]; dup {
		panic("runbook: subcommand " + c.Name + " registered twice")
	}
	commands[c.Name] = c
}

func main() {
	ctx, stop := proc.NotifyContext(context.Background(), os.Stderr, "runbook")
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitcode.Config
		}
		return exitcode.OK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "runbook: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitcode.Config
	}
	return c.Run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	list := make([]Command, 0, len(commands))
	for _, c := range commands {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Order != list[j].Order {
			return list[i].Order < list[j].Order
		}
		return list[i].Name < list[j].Name
	})
	var b strings.Builder
	b.WriteString("usage: runbook <command> [flags]   (runbook <command> -h for its flags)\n\ncommands:\n")
	for _, c := range list {
		fmt.Fprintf(&b, "  %-10s %s\n", c.Name, c.Summary)
	}
	b.WriteString("\nexit codes: 0 ok, 1 internal, 2 configuration, 3 preflight blocker, 4 deploy step failed,\n" +
		"            5 smoke failed, 6 SLO breach, 7 rollback failed, 8 refused (README \"Exit codes\")\n")
	fmt.Fprint(w, b.String())
}
