package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/junit"
)

// Gate is one gate's evidence: the events of its tests so far. It is safe
// for concurrent use.
type Gate struct {
	name, dir, pkg string
	start          time.Time
	mu             sync.Mutex
	events         []gotestjson.Event
	failed         bool
	ran            bool
}

// New starts the evidence of gate name (preflight, smoke, postdeploy) for
// the Go package pkg (its import path, the events' Package), written into
// dir as <name>.json and <name>.junit.xml; dir "" keeps it in memory only.
func New(dir, name, pkg string) *Gate {
	g := &Gate{name: name, dir: dir, pkg: pkg, start: time.Now()}
	g.events = append(g.events, gotestjson.Event{Time: g.start, Action: "start", Package: pkg})
	return g
}

// JSONPath is <dir>/<name>.json ("" without a folder).
func (g *Gate) JSONPath() string { return g.path(".json") }

// JUnitPath is <dir>/<name>.junit.xml ("" without a folder).
func (g *Gate) JUnitPath() string { return g.path(".junit.xml") }

func (g *Gate) path(ext string) string {
	if g.dir == "" {
		return ""
	}
	return filepath.Join(g.dir, g.name+ext)
}

// test is one test's events being built.
type test struct {
	g      *Gate
	name   string
	depth  int
	start  time.Time
	events []gotestjson.Event
}

func (g *Gate) newTest(name string, depth int, at time.Time) *test {
	t := &test{g: g, name: name, depth: depth, start: at}
	t.add("run", "")
	t.add("output", "=== RUN   "+name+"\n")
	return t
}

func (t *test) add(action, output string) {
	at := time.Now()
	if action == "run" {
		at = t.start
	}
	t.events = append(t.events, gotestjson.Event{Time: at, Action: action, Package: t.g.pkg, Test: t.name, Output: output})
}

// log writes one t.Log line: indented by depth, "file.go:N: " as the
// testing package prefixes it (the file and line of this package's
// caller), continuation lines indented once more.
func (t *test) log(line string) {
	_, file, no, _ := runtime.Caller(1)
	ind := strings.Repeat("    ", t.depth+1)
	for i, l := range strings.Split(strings.TrimRight(line, "\n"), "\n") {
		if i == 0 {
			t.add("output", fmt.Sprintf("%s%s:%d: %s\n", ind, filepath.Base(file), no, l))
			continue
		}
		// go test -json: one output event per line.
		t.add("output", ind+"    "+l+"\n")
	}
}

// end writes "--- PASS: name (0.12s)" and the pass, fail or skip event.
func (t *test) end(action string, elapsed time.Duration) {
	word := map[string]string{"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[action]
	t.add("output", fmt.Sprintf("%s--- %s: %s (%.2fs)\n", strings.Repeat("    ", t.depth), word, t.name, elapsed.Seconds()))
	t.events = append(t.events, gotestjson.Event{Time: t.start.Add(elapsed), Action: action, Package: t.g.pkg, Test: t.name, Elapsed: elapsed.Seconds()})
}

// SubtestName is the name t.Run gives a subtest: spaces become
// underscores.
func SubtestName(s string) string { return strings.ReplaceAll(s, " ", "_") }

// Flow records a flow's result as the test named test (TestAuth), as
// flow.RunT would have run it, and writes the files.
func (g *Gate) Flow(testName string, res flow.Result) error {
	began := time.Now().Add(-res.Duration)
	top := g.newTest(testName, 0, began)
	var sub [][]gotestjson.Event
	failed, notRun, anyFailed := "", []string(nil), false
	at := began
	for _, st := range res.Steps {
		s := g.newTest(testName+"/"+SubtestName(st.Name), 1, at)
		for _, l := range st.Lines {
			s.log(l)
		}
		action := "pass"
		switch st.Status {
		case flow.Failed:
			s.log("FAILED: " + errText(st.Err))
			action, anyFailed = "fail", true
			if failed == "" {
				failed = st.Name
			}
		case flow.Skipped:
			var skip *flow.SkipError
			reason := errText(st.Err)
			if errors.As(st.Err, &skip) {
				reason = skip.Reason
			}
			s.log("SKIPPED, not passed: " + reason)
			action = "skip"
		case flow.NotApplicable:
			// The target's file declares the step not applicable: the
			// readers (smoke record, report) know it by its first words.
			s.log(errText(st.Err))
			action = "skip"
		case flow.NotRun:
			s.log(fmt.Sprintf("NOT RUN: step %q failed before it, so this step proves nothing", failed))
			notRun = append(notRun, st.Name)
			action = "skip"
		}
		s.end(action, st.Duration)
		at = at.Add(st.Duration)
		sub = append(sub, s.events)
	}
	for _, e := range sub {
		top.events = append(top.events, e...)
	}
	for _, l := range res.Cleanup {
		top.log("cleanup: " + l)
	}
	switch {
	case failed != "" && len(notRun) > 0:
		top.log(fmt.Sprintf("flow %s FAILED at step %s after %s", res.Flow, failed, res.Duration.Round(time.Millisecond)))
		top.log("NOT RUN (they prove nothing about this deployment): " + strings.Join(notRun, ", "))
	case anyFailed:
		top.log(fmt.Sprintf("flow %s FAILED at step %s after %s", res.Flow, failed, res.Duration.Round(time.Millisecond)))
	default:
		top.log(fmt.Sprintf("flow %s: %d steps passed in %s", res.Flow, len(res.Steps), res.Duration.Round(time.Millisecond)))
	}
	if res.CleanupErr != nil {
		top.log(fmt.Sprintf("%s/cleanup failed: %v", res.Flow, res.CleanupErr))
		anyFailed = true
	}
	action := "pass"
	if anyFailed {
		action = "fail"
	}
	top.end(action, res.Duration)
	return g.add(top.events, anyFailed)
}

// Check records one check without steps (a postdeploy check) as the test
// named test: lines are what it logged, err nil when it passed, then
// last, the line its test ends with ("✅ ..." or "Step 4.5 (...): ...").
func (g *Gate) Check(testName string, lines []string, err error, last string, elapsed time.Duration) error {
	t := g.newTest(testName, 0, time.Now().Add(-elapsed))
	for _, l := range lines {
		t.log(l)
	}
	if last != "" {
		t.log(last)
	}
	action := "pass"
	if err != nil {
		action = "fail"
	}
	t.end(action, elapsed)
	return g.add(t.events, err != nil)
}

// Fail records output outside any test that failed the whole run (a
// set-up that failed before any test ran), as the package's own output.
func (g *Gate) Fail(lines ...string) error {
	var evs []gotestjson.Event
	for _, l := range lines {
		evs = append(evs, gotestjson.Event{Time: time.Now(), Action: "output", Package: g.pkg, Output: l + "\n"})
	}
	return g.add(evs, true)
}

func (g *Gate) add(evs []gotestjson.Event, failed bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	// A test that ran before the gate's first record (the smoke flows run
	// together, then are recorded) starts the package's run.
	if len(evs) > 0 && evs[0].Time.Before(g.start) {
		g.start = evs[0].Time
		g.events[0].Time = g.start
	}
	g.events = append(g.events, evs...)
	g.failed = g.failed || failed
	g.ran = true
	return g.write()
}

func errText(err error) string {
	if err == nil {
		return "no error given"
	}
	return err.Error()
}

// Result is the gate's events so far as internal/gotestjson reads them,
// with the package's end.
func (g *Gate) Result() (*gotestjson.Result, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return gotestjson.Parse(bytes.NewReader(g.encode()))
}

// encode is the `go test -json` stream: the tests so far, then the
// package's "PASS"/"FAIL" and its pass or fail event.
func (g *Gate) encode() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	now := time.Now()
	word, action := "PASS", "pass"
	if g.failed {
		word, action = "FAIL", "fail"
	}
	evs := append(append([]gotestjson.Event(nil), g.events...),
		gotestjson.Event{Time: now, Action: "output", Package: g.pkg, Output: word + "\n"},
		gotestjson.Event{Time: now, Action: action, Package: g.pkg, Elapsed: now.Sub(g.start).Seconds()})
	for _, e := range evs {
		_ = enc.Encode(jsonEvent(e)) // a struct of strings and numbers always encodes
	}
	return b.Bytes()
}

// event has go test -json's field names and omissions.
type event struct {
	Time    time.Time `json:",omitempty"`
	Action  string
	Package string  `json:",omitempty"`
	Test    string  `json:",omitempty"`
	Elapsed float64 `json:",omitempty"`
	Output  string  `json:",omitempty"`
}

func jsonEvent(e gotestjson.Event) event {
	return event{Time: e.Time, Action: e.Action, Package: e.Package, Test: e.Test, Elapsed: e.Elapsed, Output: e.Output}
}

// write rewrites <name>.json and <name>.junit.xml whole (each through a
// temporary file renamed over it). Called with g.mu held.
func (g *Gate) write() error {
	if g.dir == "" {
		return nil
	}
	raw := g.encode()
	res, err := gotestjson.Parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("evidence %s: %w", g.name, err)
	}
	if err := writeFile(g.JSONPath(), raw); err != nil {
		return err
	}
	s := junit.FromResult(res)
	junit.EnrichSuites(s, res)
	return junit.Write(g.JUnitPath(), s)
}

func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return errors.Join(fmt.Errorf("evidence: write %s: %w", path, err), os.Remove(tmp.Name()))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}
