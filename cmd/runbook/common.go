package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/granter/runbook/internal/confirm"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flagorder"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
)

// loadTarget loads the environment this binary was built for. On a
// configuration error it prints one line per problem and returns
// exitcode.Config.
func loadTarget(ctx context.Context, stderr io.Writer) (*target.Target, int) {
	tgt, err := target.Load()
	if err == nil {
		err = globalsOf(ctx).apply(tgt)
	}
	if err != nil {
		fmt.Fprintln(stderr, "runbook: the target configuration is not usable; nothing was done:")
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintln(stderr, "  "+line)
			}
		}
		return nil, exitcode.Config
	}
	return tgt, exitcode.OK
}

// runFlags are the flags every action takes.
type runFlags struct {
	runDir  string
	dryRun  bool
	confirm string
	version string
	// ask lets a person at a terminal confirm by typing the environment
	// and the version; nil without a terminal.
	ask confirm.Prompt
}

// add declares the flags on fs, with their environment defaults.
func (f *runFlags) add(fs *flag.FlagSet, withVersion bool) {
	fs.StringVar(&f.runDir, "run-dir", os.Getenv("RUNBOOK_RUN_DIR"), "run folder for the journal and the gates' results (default $RUNBOOK_RUN_DIR, else runs/<UTC time>-<env>)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan with the runbook's commands; touch nothing")
	// Not defaulted from CONFIRM: exported in a shell it would confirm
	// every later command (make passes --confirm for a CONFIRM= on its
	// own command line only).
	fs.StringVar(&f.confirm, "confirm", "", "the target's confirmation word, on the command line (make: CONFIRM=<env> on make's command line): staging and prod refuse every change without it or the environment and version typed at a terminal")
	f.ask = confirm.TerminalPrompt(os.Stdin, os.Stderr)
	if withVersion {
		fs.StringVar(&f.version, "version", os.Getenv(target.VersionEnv), "the release to deploy, e.g. v2.0.0 (RUNBOOK_VERSION)")
	}
}

// holdVersion settles the release the command is about (--version, else
// RUNBOOK_VERSION) and puts it on the target: the gates read it there
// (every /health answer held to it), whichever way it was given.
func (f *runFlags) holdVersion(tgt *target.Target) {
	if f.version == "" {
		f.version = tgt.Version
	}
	tgt.Version = f.version
}

// parse parses args; it returns false and the exit code on a usage error.
func parse(fs *flag.FlagSet, args []string) (bool, int) {
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, exitcode.OK
		}
		return false, exitcode.Config
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "runbook %s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return false, exitcode.Config
	}
	return true, exitcode.OK
}

// defaultRunDir is runs/<UTC time>-<env> under the module root.
func defaultRunDir(env string) string {
	return filepath.Join(moduleRoot(), "runs", time.Now().UTC().Format("20060102-150405")+"-"+env)
}

// openRun opens the run folder's journal (creating the folder) and reads
// what earlier commands of the run journaled.
func openRun(tgt *target.Target, f *runFlags) (*journal.Journal, []journal.Entry, error) {
	if f.runDir == "" {
		f.runDir = defaultRunDir(tgt.Env)
	}
	if abs, err := filepath.Abs(f.runDir); err == nil {
		f.runDir = abs
	}
	history, err := journal.Read(f.runDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	j, err := journal.Open(f.runDir, filepath.Base(f.runDir), tgt.Env, tgt.Redact)
	return j, history, err
}

// moduleRoot is the folder of go.mod at or above the working directory
// (the gates run `go test` there); the working directory when none.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return wd
		}
		dir = parent
	}
}

// buildTag is the go build tag of this binary's environment ("" locally),
// for the gates' child `go test` runs.
func buildTag() string {
	if target.Env == "local" {
		return ""
	}
	return target.Env
}
