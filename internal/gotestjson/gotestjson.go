package gotestjson

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// Event is one line of `go test -json` (cmd/test2json's TestEvent).
type Event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64 // seconds
	Output      string
	FailedBuild string
}

// Status is a test's outcome.
type Status string

// Outcomes. NoResult means the test started and never ended (a crash, a
// timeout, a truncated file): it proves nothing.
const (
	Passed   Status = "passed"
	Failed   Status = "failed"
	Skipped  Status = "skipped"
	NoResult Status = "no result"
)

// Test is one test or subtest.
type Test struct {
	Package string
	Name    string // TestSearch/filter_category
	Status  Status
	Started time.Time // the "run" event; zero when the stream had none
	Ended   time.Time // the pass/fail/skip event
	Elapsed time.Duration
	// Output is what the test printed, one line per element, unmodified
	// (framing lines such as "=== RUN" included).
	Output []string
}

// Top is the name of the top-level test (TestSearch for TestSearch/filter_category).
func (t *Test) Top() string {
	top, _, _ := strings.Cut(t.Name, "/")
	return top
}

// Sub is the part of the name after the top-level test ("" for a top-level test).
func (t *Test) Sub() string {
	_, sub, _ := strings.Cut(t.Name, "/")
	return sub
}

// Lines is the test's output without go test's framing ("=== RUN",
// "--- PASS", "PASS") and without the file:line prefix of t.Log lines: what
// the test said, one line per element.
func (t *Test) Lines() []string {
	var out []string
	for _, l := range t.Output {
		if c := Clean(l); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// Message says why the test failed or was skipped, in one line: the line
// flow.RunT writes ("FAILED: ...", "SKIPPED, not passed: ...", "NOT RUN:
// ..."), testify's "Error:" and "Messages:" lines, else the last line the
// test logged. Empty when the test logged nothing.
func (t *Test) Message() string { return MessageOf(t.Output) }

var logPrefix = regexp.MustCompile(`^\s*[\w.\-/]+\.go:\d+: `)

// Clean strips go test's framing from one output line: "=== RUN", "---
// PASS" and the like become "", a t.Log line loses its "file.go:12: "
// prefix and its indentation.
func Clean(line string) string {
	t := strings.TrimSpace(line)
	switch {
	case t == "PASS" || t == "FAIL" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- "):
		return ""
	case strings.HasPrefix(t, "ok  \t") || strings.HasPrefix(t, "FAIL\t"):
		return ""
	}
	return strings.TrimSpace(logPrefix.ReplaceAllString(line, ""))
}

// MessageOf finds the reason line in raw test output lines; see
// Test.Message.
func MessageOf(out []string) string {
	last := ""
	for i, l := range out {
		c := Clean(l)
		if c == "" {
			continue
		}
		for _, p := range []string{"FAILED: ", "SKIPPED, not passed: ", "NOT RUN: "} {
			if strings.HasPrefix(c, p) {
				msg := c
				if p == "FAILED: " {
					msg = strings.TrimPrefix(c, p)
				}
				// A multi-line error continues on more-indented lines.
				for _, more := range out[i+1:] {
					if !strings.HasPrefix(more, "        ") || Clean(more) == "" || logPrefix.MatchString(more) {
						break
					}
					msg += " " + strings.TrimSpace(more)
				}
				return msg
			}
		}
		if strings.HasPrefix(c, "Error Trace:") {
			if msg := testifyMessage(out[i:]); msg != "" {
				return msg
			}
		}
		last = c
	}
	return last
}

// testifyMessage joins testify's "Error:" and "Messages:" blocks.
func testifyMessage(out []string) string {
	var parts []string
	in := false
	for _, l := range out {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "Error:"), strings.HasPrefix(t, "Messages:"):
			_, v, _ := strings.Cut(t, ":")
			parts = append(parts, strings.TrimSpace(v))
			in = true
		case strings.HasPrefix(t, "Test:"), strings.HasPrefix(t, "Error Trace:"), strings.HasPrefix(t, "--- "):
			in = false
		case in && t != "":
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}

// Result is one `go test -json` stream: every test in the order it started.
type Result struct {
	Tests []*Test
	// Packages maps each package to its outcome (passed, failed, skipped
	// when it has no tests, no result when it never finished).
	Packages map[string]Status
	// PackageOutput is what each package printed outside any test (TestMain,
	// a panic, "FAIL"), by package.
	PackageOutput map[string][]string
	// Stray are lines that were not test events (go's own build errors) and
	// build output.
	Stray []string
	// Start and End are the first and last event times (zero when none).
	Start, End time.Time

	byName map[string]*Test
}

// Test returns the test of that full name (TestSearch/filter_category) in
// any package, or nil.
func (r *Result) Test(name string) *Test { return r.byName[name] }

// Subtests returns the direct and nested subtests of the named test, in
// the order they started.
func (r *Result) Subtests(name string) []*Test {
	var out []*Test
	for _, t := range r.Tests {
		if strings.HasPrefix(t.Name, name+"/") {
			out = append(out, t)
		}
	}
	return out
}

// Failed returns every failed test, in the order they ended.
func (r *Result) Failed() []*Test {
	var out []*Test
	for _, t := range r.Tests {
		if t.Status == Failed {
			out = append(out, t)
		}
	}
	sortByEnd(out)
	return out
}

// Leaves returns the failed tests none of whose subtests failed: the
// tests whose own message says what went wrong.
func (r *Result) Leaves() []*Test {
	var out []*Test
	for _, t := range r.Failed() {
		leaf := true
		for _, s := range r.Subtests(t.Name) {
			if s.Status == Failed {
				leaf = false
				break
			}
		}
		if leaf {
			out = append(out, t)
		}
	}
	return out
}

// Reason says why the named test failed: its own message, or, for a test
// that failed because a subtest did, "<subtest>: <its message>".
func (r *Result) Reason(t *Test) string {
	if t.Status == Failed {
		for _, s := range r.Subtests(t.Name) {
			if s.Status == Failed {
				return s.Name + ": " + r.Reason(s)
			}
		}
	}
	return t.Message()
}

// PackageFailed reports whether any package failed (a failed test, a
// build failure, a panic in TestMain).
func (r *Result) PackageFailed() bool {
	for _, s := range r.Packages {
		if s == Failed {
			return true
		}
	}
	return false
}

func sortByEnd(ts []*Test) {
	// insertion sort: lists are short and mostly ordered already
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Ended.Before(ts[j-1].Ended); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// ParseError names the file and line that could not be read.
type ParseError struct {
	File string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("gotestjson: %s line %d: %v", e.File, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadFile parses the `go test -json` output stored in path.
func ReadFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gotestjson: %w", err)
	}
	defer f.Close()
	r, err := parse(f, path)
	return r, err
}

// Parse reads a `go test -json` stream. Lines that are not JSON objects
// are kept in Stray; a line that starts like an event but does not decode
// is an error naming the line.
func Parse(r io.Reader) (*Result, error) { return parse(r, "<input>") }

func parse(r io.Reader, name string) (*Result, error) {
	res := &Result{Packages: map[string]Status{}, PackageOutput: map[string][]string{}, byName: map[string]*Test{}}
	key := func(pkg, test string) string { return pkg + "\x00" + test }
	tests := map[string]*Test{}
	get := func(e Event) *Test {
		k := key(e.Package, e.Test)
		t, ok := tests[k]
		if !ok {
			t = &Test{Package: e.Package, Name: e.Test, Status: NoResult}
			tests[k] = t
			res.Tests = append(res.Tests, t)
			if _, dup := res.byName[e.Test]; !dup {
				res.byName[e.Test] = t
			}
		}
		return t
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		trimmed := strings.TrimSpace(string(line))
		if trimmed == "" {
			continue
		}
		if !strings.HasPrefix(trimmed, "{") {
			res.Stray = append(res.Stray, trimmed)
			continue
		}
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return res, &ParseError{File: name, Line: n, Err: err}
		}
		if !e.Time.IsZero() {
			if res.Start.IsZero() || e.Time.Before(res.Start) {
				res.Start = e.Time
			}
			if e.Time.After(res.End) {
				res.End = e.Time
			}
		}
		switch {
		case e.Action == "build-output" || e.Action == "build-fail":
			if o := strings.TrimRight(e.Output, "\n"); o != "" {
				res.Stray = append(res.Stray, o)
			}
		case e.Test == "":
			if e.Package == "" {
				continue
			}
			switch e.Action {
			case "start":
				if _, ok := res.Packages[e.Package]; !ok {
					res.Packages[e.Package] = NoResult
				}
			case "output":
				res.PackageOutput[e.Package] = append(res.PackageOutput[e.Package], strings.TrimRight(e.Output, "\n"))
			case "pass":
				res.Packages[e.Package] = Passed
			case "fail":
				res.Packages[e.Package] = Failed
			case "skip":
				res.Packages[e.Package] = Skipped
			}
		default:
			t := get(e)
			switch e.Action {
			case "run":
				t.Started = e.Time
			case "output":
				t.Output = append(t.Output, strings.TrimRight(e.Output, "\n"))
			case "pass", "fail", "skip":
				t.Status = map[string]Status{"pass": Passed, "fail": Failed, "skip": Skipped}[e.Action]
				t.Ended = e.Time
				t.Elapsed = time.Duration(e.Elapsed * float64(time.Second))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("gotestjson: reading %s: %w", name, err)
	}
	return res, nil
}
