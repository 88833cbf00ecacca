// Command runbook is the runbook as commands, one binary with a
// subcommand per action (cobra; README "Exit codes" for what each exit
// code means; `runbook --help`, `runbook completion bash|zsh|fish`):
//
//	runbook preflight                  the pre-deployment checklist (make preflight)
//	runbook checklist [ack|record-smoke]  the checklist from preflight.json; a person's confirmation
//	runbook deploy  --version v2.0.0   the whole sequence: preflight, Phases 1-4 (make deploy)
//	runbook backup                     Step 1.1: final backup, checksum, verified by restore
//	runbook notify  --version v2.0.0   Step 1.2: tell the team channel (webhook)
//	runbook drain                      Steps 1.3-1.4: scale backend-core to 0, no session left
//	runbook migrate                    Steps 2.1-2.3: run the migrations, verify, database health
//	runbook rollout --version v2.0.0   Phase 3: set image, wait for the rollout, health, per service
//	runbook smoke | postdeploy         Step 4.1 | Steps 4.2-4.5 (make smoke, make postdeploy)
//	runbook monitor | rollback         the 4-hour watch | the ROLLBACK PROCEDURE
//	runbook report  RUN                the go-live report of a run folder
//	runbook local                      make local (the untagged build only)
//
// kubectl-style flags go anywhere on the line, before or after the
// positional arguments (runbook report RUN --out X): --env (must be the
// build's), --kubeconfig, --context, -n/--namespace (override the
// environment file's kube settings), --run (the run folder, as
// --run-dir), --dry-run, --confirm.
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
// `go build -tags=prod ./cmd/runbook` (make build: bin/runbook-prod)
// reads environments/prod.yaml. The staging and prod binaries never link
// the local fixtures; the untagged one does, for `runbook local` and the
// local preflight's evidence.
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

	"github.com/spf13/cobra"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/proc"
	"github.com/granter/runbook/internal/target"
)

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string // one line for the usage
	// Order places it in the usage (the runbook's order); equal orders
	// sort by name.
	Order int
	// Run runs it with the arguments after its name, the global flags
	// taken out and the rest in flag-first order, and returns the exit
	// code (internal/exitcode).
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// OwnFlags are flags the command defines itself under a global's name
	// (checklist's --env is the heading's): left to it.
	OwnFlags []string
	// RunArg: the command takes the run folder as its argument (report),
	// so --run DIR becomes that argument rather than --run-dir.
	RunArg bool
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

// dispatch runs the command line and returns the exit code.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	code := exitcode.OK
	root := newRoot(&code, stdout, stderr)
	if len(args) == 0 {
		_ = root.Help() // writes to stdout; cannot fail
		return exitcode.Config
	}
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "runbook: %v\n", err)
		return exitcode.Config
	}
	return code
}

// newRoot is the cobra tree: one cobra command per registered Command.
// Each parses its own flags (the Go flag package, -h lists them); the
// global kubectl-style flags are taken out of its arguments first,
// wherever they are, and handed to loadTarget through the context.
func newRoot(code *int, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "runbook",
		Short: "the Granter deployment runbook as commands (" + target.Env + " build)",
		Long: "runbook: the Granter deployment runbook as commands (" + target.Env + " build).\n\n" +
			"Global flags, anywhere on the line: --env " + target.Env + ", --kubeconfig FILE, --context NAME, -n/--namespace NS,\n" +
			"--run DIR (the run folder), --dry-run, --confirm WORD (README \"Safety\").\n\n" +
			"exit codes: 0 ok, 1 internal, 2 configuration, 3 preflight blocker, 4 deploy step failed,\n" +
			"            5 smoke failed, 6 SLO breach, 7 rollback failed, 8 refused (README \"Exit codes\")",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// The runbook's order (Command.Order), not the alphabet.
	cobra.EnableCommandSorting = false
	for _, c := range sorted() {
		root.AddCommand(&cobra.Command{
			Use:                c.Name,
			Short:              c.Summary,
			DisableFlagParsing: true, // the command's own flag set parses, -h included
			RunE: func(cmd *cobra.Command, args []string) error {
				g, rest, err := takeGlobals(args, c.OwnFlags, c.RunArg)
				if err != nil {
					return err
				}
				if err := g.check(); err != nil {
					return err
				}
				*code = c.Run(withGlobals(cmd.Context(), g), rest, stdout, stderr)
				return nil
			},
			ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return nil, cobra.ShellCompDirectiveDefault
			},
		})
	}
	return root
}

// sorted is every subcommand in the usage's order.
func sorted() []Command {
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
	return list
}

// runbook commands prints every subcommand's name, one a line (scripts
// check the image's --help against it).
func init() {
	register(Command{Name: "commands", Order: 99, Summary: "list the subcommands' names, one a line",
		Run: func(_ context.Context, _ []string, stdout, _ io.Writer) int {
			for _, c := range sorted() {
				fmt.Fprintln(stdout, c.Name)
			}
			return exitcode.OK
		}})
}
