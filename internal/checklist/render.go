package checklist

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flow"
)

// State is what became of one sub-item.
type State string

// Sub-item states. Only Done completes a sub-item.
const (
	Done      State = "done"        // ✅ proven from evidence
	Failed    State = "failed"      // ❌ its check failed: a blocker
	Unchecked State = "not checked" // ⚠ skipped, not run or missing: a blocker
	// NotApplicable: a sub-item taken from staging, on the staging target
	// itself (FromStaging); neither done nor a blocker.
	NotApplicable State = "not applicable" // ➖
)

// Mark is the symbol printed for the state.
func (s State) Mark() string {
	switch s {
	case Done:
		return "✅"
	case Failed:
		return "❌"
	case NotApplicable:
		return "➖"
	default:
		return "⚠"
	}
}

// SubResult is one sub-item as the test output shows it.
type SubResult struct {
	Name     string
	State    State
	Reason   string   // why it failed or was not checked
	Evidence []string // what proved it (Evidence lines), when done
}

// ItemResult is one item and its sub-items.
type ItemResult struct {
	Item
	Subs []SubResult
	// Note is the item test's own message when it failed or was skipped
	// outside any sub-item (a placeholder, a failed set-up); it is also each
	// sub-item's reason then.
	Note string
}

// Complete reports whether every sub-item is done (or not applicable on
// this target: FromStaging).
func (r ItemResult) Complete() bool {
	done := 0
	for _, s := range r.Subs {
		switch s.State {
		case Done:
			done++
		case NotApplicable:
		default:
			return false
		}
	}
	return done > 0
}

// Report is the checklist as one run of ./preflight proved it.
type Report struct {
	Items []ItemResult
	// ConfigError is set when the run stopped on a configuration error
	// before any check: the lines naming each bad setting.
	ConfigError string
	// RunError is set when the run failed outside the checklist: the
	// package did not build, set-up failed, a test panicked or timed out.
	RunError string
}

// Blockers lists every sub-item that is not done, as
// "2. Infrastructure Check / All services healthy: <reason>", then the run
// error if any.
func (rep Report) Blockers() []string {
	var out []string
	for _, it := range rep.Items {
		for _, s := range it.Subs {
			if s.State == Done || s.State == NotApplicable {
				continue
			}
			what := "FAILED"
			if s.State == Unchecked {
				what = "NOT CHECKED"
			}
			out = append(out, fmt.Sprintf("%s / %s: %s: %s", it.Label(), s.Name, what, s.Reason))
		}
	}
	if rep.RunError != "" {
		out = append(out, "the preflight run itself failed: "+firstLine(rep.RunError))
	}
	return out
}

// ExitCode is the runbook's contract with CI: exitcode.Config on a
// configuration error, exitcode.Internal when the run failed outside the
// checklist, exitcode.Preflight on any blocker, exitcode.OK when every
// sub-item of every item is done.
func (rep Report) ExitCode() int {
	switch {
	case rep.ConfigError != "":
		return exitcode.Config
	case rep.RunError != "":
		return exitcode.Internal
	case len(rep.Blockers()) > 0:
		return exitcode.Preflight
	}
	return exitcode.OK
}

// testEvent is one line of `go test -json` (cmd/test2json).
type testEvent struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Output  string
}

// configMarker starts the message the harness prints for a configuration
// error (internal/suite reportConfig).
const configMarker = "runbook: the target configuration is not usable"

// Read builds the report from `go test -json` output of ./preflight.
// Lines that are not JSON (a build error printed by go itself) are kept as
// the run error.
func Read(r io.Reader) (Report, error) {
	// By package and full test name: `go test -json ./preflight/...` runs
	// the same test names in several packages, and one package's pass
	// must not overwrite another's fail.
	type key struct{ pkg, test string }
	runs := map[key]*testRun{}
	var order []key
	get := func(pkg, name string) *testRun {
		k := key{pkg, name}
		s, ok := runs[k]
		if !ok {
			s = &testRun{}
			runs[k] = s
			order = append(order, k)
		}
		return s
	}
	var pkgOut, stray []string
	pkgFailed, sawTests := false, false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e testEvent
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			if s := strings.TrimSpace(string(line)); s != "" {
				stray = append(stray, s)
			}
			continue
		}
		switch {
		case e.Action == "build-output" || e.Action == "build-fail":
			if o := strings.TrimRight(e.Output, "\n"); o != "" {
				stray = append(stray, o)
			}
			if e.Action == "build-fail" {
				pkgFailed = true
			}
		case e.Test == "":
			switch e.Action {
			case "output":
				pkgOut = append(pkgOut, strings.TrimRight(e.Output, "\n"))
			case "fail":
				pkgFailed = true
			}
		default:
			sawTests = true
			s := get(e.Package, e.Test)
			switch e.Action {
			case "output":
				s.out = append(s.out, strings.TrimRight(e.Output, "\n"))
			case "pass", "fail", "skip":
				s.action = e.Action
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("reading go test -json: %w", err)
	}

	// One result per test name: where packages disagree, the worst
	// outcome wins (fail, then unfinished, then skip, then pass).
	subs := map[string]*testRun{}
	for _, k := range order {
		if cur, ok := subs[k.test]; !ok || worse(runs[k].action, cur.action) {
			subs[k.test] = runs[k]
		}
	}

	var rep Report
	if i := indexContaining(pkgOut, configMarker); i >= 0 {
		var lines []string
		for _, l := range pkgOut[i+1:] {
			if strings.HasPrefix(l, "  ") {
				lines = append(lines, strings.TrimSpace(l))
			}
		}
		rep.ConfigError = strings.Join(lines, "\n")
		if rep.ConfigError == "" {
			rep.ConfigError = pkgOut[i]
		}
	}

	for _, it := range Items {
		ir := ItemResult{Item: it}
		top := subs[it.Test]
		for _, name := range it.Subs {
			sr := SubResult{Name: name, State: Unchecked}
			s := subs[it.Test+"/"+SubtestName(name)]
			switch {
			case s == nil || s.action == "":
				sr.Reason = "did not run"
				if top != nil {
					if msg := message(top.out); msg != "" {
						sr.Reason = msg
					}
				}
			case s.action == "pass":
				sr.State, sr.Evidence = Done, evidence(s.out)
			case s.action == "fail":
				sr.State, sr.Reason = Failed, message(s.out)
			default: // skip
				sr.Reason = message(s.out)
				// Only a sub-item taken from staging may be not applicable;
				// any other skip stays a blocker, whatever it says.
				if FromStaging(it.Test, name) && strings.HasPrefix(sr.Reason, flow.NotApplicableMark) {
					sr.State = NotApplicable
				}
			}
			if sr.Reason == "" && sr.State != Done {
				sr.Reason = "no reason given"
			}
			ir.Subs = append(ir.Subs, sr)
		}
		if top != nil && (top.action == "fail" || top.action == "skip") && !anyRan(subs, it) {
			ir.Note = message(top.out)
		}
		rep.Items = append(rep.Items, ir)
	}

	if rep.ConfigError == "" && pkgFailed {
		allDone := true
		for _, it := range rep.Items {
			allDone = allDone && it.Complete()
		}
		// A failed package is a run error when it is not explained by the
		// checklist's own blockers: nothing ran, or everything passed yet
		// the binary failed (a panic, a timeout, a leftover container).
		if !sawTests || allDone || hasPanic(pkgOut) {
			rep.RunError = strings.Join(tail(append(stray, pkgOut...), 15), "\n")
			if rep.RunError == "" {
				rep.RunError = "go test failed without output"
			}
		}
	}
	if !sawTests && rep.ConfigError == "" && rep.RunError == "" {
		rep.RunError = "no test ran: is this the output of `go test -json ./preflight`?"
		if len(stray) > 0 {
			rep.RunError += "\n" + strings.Join(tail(stray, 15), "\n")
		}
	}
	return rep, nil
}

// testRun is one test's or subtest's outcome and output.
type testRun struct {
	action string // pass, fail, skip; "" while running (or never ended)
	out    []string
}

// worse reports whether outcome a is worse than b: fail, then "" (never
// ended), then skip, then pass.
func worse(a, b string) bool {
	rank := map[string]int{"pass": 0, "skip": 1, "": 2, "fail": 3}
	return rank[a] > rank[b]
}

// anyRan reports whether any sub-item of it has an outcome.
func anyRan(subs map[string]*testRun, it Item) bool {
	for _, name := range it.Subs {
		if s := subs[it.Test+"/"+SubtestName(name)]; s != nil && s.action != "" {
			return true
		}
	}
	return false
}

var logPrefix = regexp.MustCompile(`^\s*[\w.\-/]+\.go:\d+: `)

// clean strips go test's framing from an output line: the file:line
// prefix, "=== RUN" and "--- PASS" lines become "".
func clean(line string) string {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") || t == "PASS" || t == "FAIL" {
		return ""
	}
	return strings.TrimSpace(logPrefix.ReplaceAllString(line, ""))
}

// message finds why a test failed or was skipped: the line flow.RunT
// writes ("FAILED: ...", "SKIPPED, not passed: ...", "NOT RUN: ..."), else
// the last line it logged.
func message(out []string) string {
	last := ""
	for i, l := range out {
		c := clean(l)
		if c == "" {
			continue
		}
		for _, p := range []string{"FAILED: ", "SKIPPED, not passed: "} {
			if strings.HasPrefix(c, p) {
				msg := strings.TrimPrefix(c, p)
				msg = strings.TrimPrefix(msg, "NOT CHECKED: ")
				// A multi-line error continues on more-indented lines.
				for _, more := range out[i+1:] {
					if !strings.HasPrefix(more, "        ") || clean(more) == "" {
						break
					}
					msg += " " + strings.TrimSpace(more)
				}
				return msg
			}
		}
		if strings.HasPrefix(c, "NOT RUN: ") {
			return c
		}
		if !strings.HasPrefix(c, EvidencePrefix) {
			last = c
		}
	}
	return last
}

// evidence returns the Evidence lines of a passed sub-item, or its last
// logged line when it recorded none.
func evidence(out []string) []string {
	var ev []string
	last := ""
	for _, l := range out {
		c := clean(l)
		if strings.HasPrefix(c, EvidencePrefix) {
			ev = append(ev, strings.TrimPrefix(c, EvidencePrefix))
		} else if c != "" {
			last = c
		}
	}
	if len(ev) == 0 && last != "" {
		ev = []string{last}
	}
	return ev
}

func indexContaining(lines []string, s string) int {
	for i, l := range lines {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

func hasPanic(lines []string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") {
			return true
		}
	}
	return false
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// Heading is what the checklist is about: environment, version, time.
type Heading struct {
	Env, Version string
	At           time.Time
}

// Write prints the checklist as the runbook shows it, with each sub-item's
// evidence or reason, then the status line and the blockers.
func (rep Report) Write(w io.Writer, h Heading) error {
	bw := bufio.NewWriter(w)
	title := "PRE-DEPLOYMENT CHECKLIST"
	if h.Env != "" {
		title += " — " + h.Env
	}
	if h.Version != "" {
		title += " " + h.Version
	}
	if !h.At.IsZero() {
		title += " (" + h.At.UTC().Format("2006-01-02 15:04 MST") + ")"
	}
	fmt.Fprintf(bw, "%s\n\n", title)
	if rep.ConfigError != "" {
		fmt.Fprintf(bw, "Configuration error: no check ran. Fix these settings:\n")
		for _, l := range strings.Split(rep.ConfigError, "\n") {
			fmt.Fprintf(bw, "  %s\n", l)
		}
		fmt.Fprintf(bw, "\nStatus: BLOCKED (configuration)\n")
		return bw.Flush()
	}
	for _, it := range rep.Items {
		box := "[ ]"
		if it.Complete() {
			box = "[x]"
		}
		fmt.Fprintf(bw, "%s %s\n", box, it.Label())
		for _, s := range it.Subs {
			fmt.Fprintf(bw, "      %s %s", s.State.Mark(), s.Name)
			switch s.State {
			case Done:
				if len(s.Evidence) > 0 {
					fmt.Fprintf(bw, ": %s", s.Evidence[0])
				}
				for _, e := range s.Evidence[min(1, len(s.Evidence)):] {
					fmt.Fprintf(bw, "\n          %s", e)
				}
			case Failed:
				fmt.Fprintf(bw, ": FAILED: %s", s.Reason)
			case NotApplicable:
				fmt.Fprintf(bw, ": %s", s.Reason)
			default:
				fmt.Fprintf(bw, ": NOT CHECKED: %s", s.Reason)
			}
			fmt.Fprintln(bw)
		}
		fmt.Fprintln(bw)
	}
	if rep.RunError != "" {
		fmt.Fprintf(bw, "The preflight run failed outside the checklist:\n")
		for _, l := range strings.Split(rep.RunError, "\n") {
			fmt.Fprintf(bw, "  %s\n", l)
		}
		fmt.Fprintln(bw)
	}
	if b := rep.Blockers(); len(b) == 0 {
		fmt.Fprintf(bw, "Status: ☑️ ALL COMPLETE → Proceed\n")
	} else {
		fmt.Fprintf(bw, "Status: BLOCKED — %d blocker(s), do not proceed:\n", len(b))
		for _, x := range b {
			fmt.Fprintf(bw, "  - %s\n", x)
		}
	}
	return bw.Flush()
}
