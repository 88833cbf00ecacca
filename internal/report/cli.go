package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flagorder"
	"github.com/granter/runbook/internal/junit"
)

const usage = `usage:
  runbook report [--format md|html|both] [--out DIR] RUN
      the go-live report of the run folder RUN (runs/<timestamp>-<env>):
      RUN/report.md and RUN/report.html (or in DIR); also enriches RUN's
      JUnit files. Exit code 0 when GO-LIVE APPROVED (or REHEARSAL PASSED on a
      rehearsal target), else the failure
      class that failed first (README "Exit codes").
  runbook report junit RUN
      only enrich RUN/<gate>.junit.xml with the evidence of RUN/<gate>.json
      (run after each gate, before CI reads the JUnit files)
`

// Main is `runbook report`: it reads the run folder named in args, writes
// the reports and returns the exit code (see the package documentation).
// The deploy CLI mounts it as its report command; cmd/runbook-report runs
// it alone.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainWith(args, stdout, stderr, nil)
}

// MainWith is Main with the target's redactor (tgt.Redact) added to
// RedactCommon.
func MainWith(args []string, stdout, stderr io.Writer, redact func(string) string) int {
	if len(args) > 0 && args[0] == "junit" {
		return junitMain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	format := fs.String("format", "both", "md, html or both")
	out := fs.String("out", "", "folder for report.md and report.html (default: the run folder)")
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitcode.OK
		}
		return exitcode.Config
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "runbook report: want exactly one run folder, got %d arguments\n%s", fs.NArg(), usage)
		return exitcode.Config
	}
	if *format != "md" && *format != "html" && *format != "both" {
		fmt.Fprintf(stderr, "runbook report: --format %q: want md, html or both\n", *format)
		return exitcode.Config
	}
	dir := fs.Arg(0)
	if *out == "" {
		*out = dir
	}

	run, err := Load(dir, WithRedactor(redact))
	if err != nil {
		fmt.Fprintf(stderr, "runbook %v\n", err) // "runbook report: run folder ...: why"
		return exitcode.Config
	}
	for _, w := range enrichAll(run.Dir) {
		run.Warnings = append(run.Warnings, RedactCommon(w))
		fmt.Fprintf(stderr, "runbook report: warning: %s\n", w)
	}
	v := Evaluate(run)

	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "runbook report: %v\n", err)
		return exitcode.Config
	}
	var written []string
	if *format == "md" || *format == "both" {
		path := filepath.Join(*out, "report.md")
		if err := writeFile(path, func(w io.Writer) error { return WriteMarkdown(w, v) }); err != nil {
			fmt.Fprintf(stderr, "runbook report: %v\n", err)
			return exitcode.Internal
		}
		written = append(written, path)
	}
	if *format == "html" || *format == "both" {
		path := filepath.Join(*out, "report.html")
		if err := writeFile(path, func(w io.Writer) error { return WriteHTML(w, v) }); err != nil {
			fmt.Fprintf(stderr, "runbook report: %v\n", err)
			return exitcode.Internal
		}
		written = append(written, path)
	}
	if err := WriteSummary(stdout, v); err != nil {
		fmt.Fprintf(stderr, "runbook report: %v\n", err)
		return exitcode.Internal
	}
	fmt.Fprintf(stdout, "report: %s\n", strings.Join(written, ", "))
	return v.ExitCode
}

// WriteSummary prints the verdict in a few lines for a terminal or a CI
// log: the verdict, what blocks it, what failed first, the next command.
func WriteSummary(w io.Writer, v Verdict) error {
	var b bytes.Buffer
	mark := "✅"
	if !v.Passed() {
		mark = "❌"
	}
	fmt.Fprintf(&b, "%s %s — %s (%s, %s): %d/%d criteria met\n", mark, v.Headline(), v.Run.Name,
		orDefault(v.Run.Env, "?"), orDefault(v.Run.Version, "version ?"), v.Count(Met), len(v.Criteria))
	for _, c := range v.Blocking() {
		fmt.Fprintf(&b, "  %s %d. %s — %s: %s\n", c.State.Mark(), c.N, c.Text, c.State, c.Summary)
	}
	if f := v.FirstFailure(); f != nil {
		fmt.Fprintf(&b, "first failure: %s at %s UTC: %s\n", f.Where, f.When.UTC().Format("15:04:05"), f.Message)
		if f.Manual != "" {
			fmt.Fprintf(&b, "  runbook's manual command: %s\n", f.Manual)
		}
	}
	if v.Next.Command != "" {
		fmt.Fprintf(&b, "next: %s\n  (%s)\n", v.Next.Command, v.Next.Why)
	}
	fmt.Fprintf(&b, "exit code %d (%s)\n", v.ExitCode, exitcode.Name(v.ExitCode))
	_, err := w.Write(b.Bytes())
	return err
}

// enrichAll enriches every gate's JUnit file; it returns one warning per
// file that could not be.
func enrichAll(dir string) []string {
	var warns []string
	for _, name := range GateNames {
		path := filepath.Join(dir, name+".junit.xml")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		jsonPath := filepath.Join(dir, name+".json")
		if _, err := os.Stat(jsonPath); err != nil {
			jsonPath = ""
		}
		if err := junit.Enrich(path, jsonPath); err != nil {
			warns = append(warns, fmt.Sprintf("%s not enriched with evidence: %v", filepath.Base(path), err))
		}
	}
	return warns
}

func junitMain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, usage)
		return exitcode.Config
	}
	dir := args[0]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "runbook report junit: %s is not a run folder\n", dir)
		return exitcode.Config
	}
	warns := enrichAll(dir)
	for _, w := range warns {
		fmt.Fprintf(stderr, "runbook report junit: %s\n", w)
	}
	if len(warns) > 0 {
		return exitcode.Internal
	}
	fmt.Fprintf(stdout, "JUnit files of %s carry their evidence\n", dir)
	return exitcode.OK
}

// writeFile writes through a temporary file renamed into place.
func writeFile(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		return errors.Join(err, tmp.Close(), os.Remove(tmp.Name()))
	}
	if err := tmp.Close(); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return errors.Join(err, os.Remove(tmp.Name()))
	}
	return os.Rename(tmp.Name(), path)
}
