package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/journal"
)

// GateNames are the gates a run folder may hold results for, in runbook
// order: <gate>.json and <gate>.junit.xml.
var GateNames = []string{"preflight", "smoke", "postdeploy", "monitor", "rollback"}

// DefaultServices are the runbook's services in Phase 3's order, used when
// the journal does not name them.
var DefaultServices = []string{"backend-core", "data-service", "web-frontend"}

// Run is what a run folder holds, redacted.
type Run struct {
	Dir      string
	Name     string // the folder's name: 20260303-140000-prod
	Env      string
	Version  string
	Previous string
	Services []string
	// Entries is the journal, in order. Empty when the folder has none.
	Entries    []journal.Entry
	HasJournal bool
	Gates      []*Gate // in GateNames order, those present
	// Warnings are files that could not be read; the report shows them.
	Warnings []string
	// GateErrors are the <gate>.json files present but unreadable, as
	// "<file>: <error>". A run with any is never approved: the gate's
	// results, a failure among them perhaps, are unknown.
	GateErrors []string
	// Start and End span every entry and test event.
	Start, End time.Time
}

// Gate is one gate's test results.
type Gate struct {
	Name   string
	File   string // <gate>.json
	JUnit  string // <gate>.junit.xml, "" when absent
	Result *gotestjson.Result
}

// Gate returns the named gate's results, or nil when the run has none.
func (r *Run) Gate(name string) *Gate {
	for _, g := range r.Gates {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// Test returns a test of the named gate, or nil.
func (r *Run) Test(gate, name string) *gotestjson.Test {
	if g := r.Gate(gate); g != nil {
		return g.Result.Test(name)
	}
	return nil
}

// LoadError says why a run folder could not be read.
type LoadError struct {
	Dir    string
	Reason string
	Err    error
}

func (e *LoadError) Error() string {
	s := fmt.Sprintf("report: run folder %s: %s", e.Dir, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *LoadError) Unwrap() error { return e.Err }

// Option sets an optional setting of Load.
type Option func(*options)

type options struct{ redact []func(string) string }

// WithRedactor adds a redactor (the target's Redact) applied to every
// string read, after RedactCommon, which is always applied.
func WithRedactor(fn func(string) string) Option {
	return func(o *options) {
		if fn != nil {
			o.redact = append(o.redact, fn)
		}
	}
}

// Load reads a run folder: the journal and every gate's go-test JSON.
// Every string is redacted on the way in. A folder with neither a journal
// nor a gate result is an error; an unreadable gate file is a warning in
// the report (its criteria are then not evaluated, and the run is not
// approved: see Run.GateErrors), an unreadable journal an error.
func Load(dir string, opts ...Option) (*Run, error) {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	redact := func(s string) string {
		s = RedactCommon(s)
		for _, fn := range o.redact {
			s = fn(s)
		}
		return s
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &LoadError{Dir: dir, Reason: "cannot be read", Err: err}
	}
	if !st.IsDir() {
		return nil, &LoadError{Dir: dir, Reason: "is not a folder"}
	}
	run := &Run{Dir: dir, Name: filepath.Base(filepath.Clean(dir))}

	entries, err := journal.Read(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		run.Warnings = append(run.Warnings, "no "+journal.FileName+": the deploy steps left no record; their criteria are not evaluated")
	case err != nil:
		return nil, &LoadError{Dir: dir, Reason: "journal unreadable", Err: err}
	default:
		run.HasJournal = true
		for _, e := range entries {
			run.Entries = append(run.Entries, redactEntry(e, redact))
		}
	}

	for _, name := range GateNames {
		path := filepath.Join(dir, name+".json")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		res, err := gotestjson.ReadFile(path)
		if err != nil {
			run.Warnings = append(run.Warnings, redact(fmt.Sprintf("%s.json unreadable, its results are ignored: %v", name, err)))
			run.GateErrors = append(run.GateErrors, redact(fmt.Sprintf("%s: %v", path, err)))
			continue
		}
		redactResult(res, redact)
		g := &Gate{Name: name, File: path, Result: res}
		if _, err := os.Stat(filepath.Join(dir, name+".junit.xml")); err == nil {
			g.JUnit = filepath.Join(dir, name+".junit.xml")
		}
		run.Gates = append(run.Gates, g)
	}
	if !run.HasJournal && len(run.Gates) == 0 {
		return nil, &LoadError{Dir: dir, Reason: "holds neither " + journal.FileName + " nor any <gate>.json (" + strings.Join(GateNames, ", ") + "): is it a run folder?"}
	}
	run.fill()
	return run, nil
}

// fill derives the run's identity and span.
func (r *Run) fill() {
	for _, e := range r.Entries {
		if r.Env == "" {
			r.Env = e.Env
		}
		if v := e.Data[journal.KeyVersion]; v != "" && r.Version == "" {
			r.Version = v
		}
		if v := e.Data[journal.KeyPrevious]; v != "" && r.Previous == "" {
			r.Previous = v
		}
		if v := e.Data["services"]; v != "" && len(r.Services) == 0 {
			r.Services = splitList(v)
		}
		r.span(entryStart(e), e.Time)
	}
	if len(r.Services) == 0 {
		r.Services = DefaultServices
	}
	for _, g := range r.Gates {
		r.span(g.Result.Start, g.Result.End)
	}
	if r.Env == "" {
		// runs/<timestamp>-<env>
		if i := strings.LastIndex(r.Name, "-"); i >= 0 {
			r.Env = r.Name[i+1:]
		}
	}
}

func (r *Run) span(start, end time.Time) {
	if !start.IsZero() && (r.Start.IsZero() || start.Before(r.Start)) {
		r.Start = start
	}
	if end.After(r.End) {
		r.End = end
	}
}

// entryStart is when a journal step began.
func entryStart(e journal.Entry) time.Time {
	switch {
	case !e.Started.IsZero():
		return e.Started
	case e.Duration > 0:
		return e.Time.Add(-e.Duration)
	}
	return e.Time
}

func redactEntry(e journal.Entry, redact func(string) string) journal.Entry {
	e.Action, e.Manual, e.Error, e.Step = redact(e.Action), redact(e.Manual), redact(e.Error), redact(e.Step)
	if len(e.Data) > 0 {
		clean := make(map[string]string, len(e.Data))
		for k, v := range e.Data {
			clean[k] = redact(v)
		}
		e.Data = clean
	}
	return e
}

func redactResult(res *gotestjson.Result, redact func(string) string) {
	for _, t := range res.Tests {
		for i, l := range t.Output {
			t.Output[i] = redact(l)
		}
	}
	for pkg, lines := range res.PackageOutput {
		for i, l := range lines {
			lines[i] = redact(l)
		}
		res.PackageOutput[pkg] = lines
	}
	for i, l := range res.Stray {
		res.Stray[i] = redact(l)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Common secret shapes, masked in every string the report reads.
var (
	urlPassword = regexp.MustCompile(`(://[^/\s:@]+:)[^@\s/]+@`)
	bearer      = regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*`)
	keyValue    = regexp.MustCompile(`(?i)\b([a-z0-9_]*(?:password|passwd|pwd|secret|token|api[_-]?key)=)([^\s&,;"']{3,})`)
	jsonSecret  = regexp.MustCompile(`(?i)("(?:password|passwd|secret|token|access_token|refresh_token|api[_-]?key)"\s*:\s*")[^"]*(")`)
)

// RedactCommon masks the secret shapes that leak most often: the password
// of a URL (postgres://user:PASSWORD@host), bearer tokens, password=,
// token=, api_key= values and JSON "password"/"token" fields. ("token: 200"
// is left alone: evidence says such things.) It is a
// safety net under the target's own redactor, which knows the actual
// values.
func RedactCommon(s string) string {
	s = urlPassword.ReplaceAllString(s, "${1}[REDACTED]@")
	s = bearer.ReplaceAllString(s, "${1}[REDACTED]")
	s = jsonSecret.ReplaceAllString(s, "${1}[REDACTED]${2}")
	s = keyValue.ReplaceAllStringFunc(s, func(m string) string {
		sub := keyValue.FindStringSubmatch(m)
		if strings.HasPrefix(sub[2], "[REDACTED") {
			return m
		}
		return sub[1] + "[REDACTED]"
	})
	return s
}
