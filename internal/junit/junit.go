package junit

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/granter/runbook/internal/gotestjson"
)

// Suites is a JUnit XML document as gotestsum writes it (the subset the
// runbook's gates produce).
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr,omitempty"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr,omitempty"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one package.
type Suite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       string      `xml:"time,attr,omitempty"`
	Timestamp  string      `xml:"timestamp,attr,omitempty"`
	Properties *Properties `xml:"properties,omitempty"`
	Cases      []Case      `xml:"testcase"`
	SystemOut  string      `xml:"system-out,omitempty"`
	SystemErr  string      `xml:"system-err,omitempty"`
}

// Properties are name/value pairs.
type Properties struct {
	Property []Property `xml:"property"`
}

// Property is one name/value pair.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one test or subtest.
type Case struct {
	Classname  string      `xml:"classname,attr,omitempty"`
	Name       string      `xml:"name,attr"`
	Time       string      `xml:"time,attr,omitempty"`
	Properties *Properties `xml:"properties,omitempty"`
	Skipped    *Outcome    `xml:"skipped,omitempty"`
	Failure    *Outcome    `xml:"failure,omitempty"`
	Error      *Outcome    `xml:"error,omitempty"`
	SystemOut  string      `xml:"system-out,omitempty"`
	SystemErr  string      `xml:"system-err,omitempty"`
}

// Outcome is a failure, an error or a skip: a one-line message, the
// output below it.
type Outcome struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// MaxMessage bounds a message attribute; the whole output stays in the body.
const MaxMessage = 2000

// Read parses a JUnit XML file.
func Read(path string) (*Suites, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	var s Suites
	if err := xml.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("junit: %s: %w", path, err)
	}
	return &s, nil
}

// Write writes s to path atomically (a temporary file renamed over it).
func Write(path string, s *Suites) (err error) {
	b, err := xml.MarshalIndent(s, "", "\t")
	if err != nil {
		return fmt.Errorf("junit: encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".junit-*.xml")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	if _, err := tmp.WriteString(xml.Header + string(b) + "\n"); err != nil {
		return errors.Join(fmt.Errorf("junit: write %s: %w", path, err), tmp.Close())
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("junit: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	return nil
}

// Enrich rewrites the JUnit file at junitPath so that every testcase
// carries its evidence (see the package documentation). goTestJSON is the
// gate's `go test -json` output (gotestsum --jsonfile); it gives passing
// testcases their output. Pass "" when there is none: failures and skips
// are still enriched from the XML alone.
func Enrich(junitPath, goTestJSON string) error {
	s, err := Read(junitPath)
	if err != nil {
		return err
	}
	var res *gotestjson.Result
	if goTestJSON != "" {
		if res, err = gotestjson.ReadFile(goTestJSON); err != nil {
			return fmt.Errorf("junit: evidence for %s: %w", junitPath, err)
		}
	}
	EnrichSuites(s, res)
	return Write(junitPath, s)
}

// EnrichSuites does Enrich's work on a parsed document; res may be nil.
func EnrichSuites(s *Suites, res *gotestjson.Result) {
	s.Errors = 0
	for i := range s.Suites {
		su := &s.Suites[i]
		su.Errors = 0
		for j := range su.Cases {
			c := &su.Cases[j]
			var t *gotestjson.Test
			if res != nil {
				t = find(res, su.Name, c)
			}
			enrichCase(su, c, t)
			if c.Error != nil {
				su.Errors++
			}
		}
		s.Errors += su.Errors
	}
}

// find returns the go-test result of the case, matched by package and name.
func find(res *gotestjson.Result, suite string, c *Case) *gotestjson.Test {
	for _, t := range res.Tests {
		if t.Name == c.Name && (t.Package == suite || t.Package == c.Classname) {
			return t
		}
	}
	return nil
}

// generic reports whether a message says nothing (gotestsum's "Failed").
func generic(m string) bool {
	m = strings.TrimSpace(m)
	return m == "" || m == "Failed" || m == "Failed."
}

func enrichCase(su *Suite, c *Case, t *gotestjson.Test) {
	if c.Failure != nil && generic(c.Failure.Message) {
		msg := gotestjson.MessageOf(strings.Split(c.Failure.Body, "\n"))
		if failedSub := firstFailedSub(su, c.Name); failedSub != nil {
			// The parent's own last line ("flow search FAILED at step ...")
			// says less than the subtest's evidence.
			msg = failedSub.Name + ": " + failureMessage(failedSub)
		}
		if msg == "" && t != nil {
			msg = t.Message()
		}
		if msg == "" {
			msg = "failed without a message: see the output below"
		}
		c.Failure.Message = clip(msg)
	}
	if c.Skipped != nil && c.Skipped.Body == "" && strings.Contains(c.Skipped.Message, "\n") {
		out := c.Skipped.Message
		c.Skipped.Body = out
		c.Skipped.Message = clip(gotestjson.MessageOf(strings.Split(out, "\n")))
	}
	if c.Properties != nil {
		var lines []string
		for _, p := range c.Properties.Property {
			lines = append(lines, fmt.Sprintf("attr %s=%s", p.Name, p.Value))
		}
		c.SystemOut = joinNonEmpty(c.SystemOut, strings.Join(lines, "\n"))
		c.Properties = nil
	}
	if c.Failure == nil && c.Skipped == nil && c.Error == nil && t != nil && !strings.Contains(c.SystemOut, "evidence:") {
		if lines := t.Lines(); len(lines) > 0 {
			c.SystemOut = joinNonEmpty("evidence:\n"+strings.Join(lines, "\n"), c.SystemOut)
		}
	}
}

func failureMessage(c *Case) string {
	if !generic(c.Failure.Message) {
		return c.Failure.Message
	}
	return gotestjson.MessageOf(strings.Split(c.Failure.Body, "\n"))
}

// firstFailedSub is the first failing testcase named "<name>/...", whose
// own subtests did not fail (the deepest one).
func firstFailedSub(su *Suite, name string) *Case {
	var found *Case
	for i := range su.Cases {
		c := &su.Cases[i]
		if c.Failure == nil || !strings.HasPrefix(c.Name, name+"/") {
			continue
		}
		if found == nil || strings.HasPrefix(c.Name, found.Name+"/") {
			found = c
		}
	}
	return found
}

func clip(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	n := MaxMessage
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "\n" + b
}

// FromResult builds the JUnit document of a `go test -json` stream as
// gotestsum --junitfile would: one testsuite per package, one testcase per
// test and subtest, the output as the failure or skip body. Run
// EnrichSuites on it for the messages and the passing cases' evidence.
func FromResult(res *gotestjson.Result) *Suites {
	s := &Suites{}
	index := map[string]int{}
	var total time.Duration
	for _, t := range res.Tests {
		i, ok := index[t.Package]
		if !ok {
			i = len(s.Suites)
			index[t.Package] = i
			s.Suites = append(s.Suites, Suite{Name: t.Package})
			if !res.Start.IsZero() {
				s.Suites[i].Timestamp = res.Start.UTC().Format(time.RFC3339)
			}
		}
		su := &s.Suites[i]
		c := Case{Classname: t.Package, Name: t.Name, Time: fmt.Sprintf("%.6f", t.Elapsed.Seconds())}
		body := strings.Join(t.Output, "\n")
		switch t.Status {
		case gotestjson.Failed:
			c.Failure = &Outcome{Message: "Failed", Body: body}
			su.Failures++
		case gotestjson.Skipped:
			c.Skipped = &Outcome{Message: body}
			su.Skipped++
		case gotestjson.NoResult:
			c.Error = &Outcome{Message: "no result: the test started and never ended", Body: body}
		}
		su.Tests++
		su.Cases = append(su.Cases, c)
		if !strings.Contains(t.Name, "/") {
			total += t.Elapsed
		}
	}
	for i := range s.Suites {
		s.Tests += s.Suites[i].Tests
		s.Failures += s.Suites[i].Failures
	}
	if !res.Start.IsZero() {
		total = res.End.Sub(res.Start)
	}
	s.Time = fmt.Sprintf("%.6f", total.Seconds())
	return s
}
