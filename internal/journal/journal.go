// Package journal is the run's record: what was done, when, with what (the
// backup file and its checksum, the images before and after, the migration
// list, durations). It is what a rollback reads and what the go-live report
// is built from.
//
// The journal is an append-only JSON Lines file, one Entry per line, flushed
// and synced after every entry so nothing is lost when a run dies. Every
// string is passed through the redactor before it is written: no secret
// reaches the file.
package journal

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FileName is the journal's name inside a run folder.
const FileName = "journal.jsonl"

// Status of a step.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusDryRun  = "dry-run"
	StatusSkipped = "skipped" // never counted as success
	StatusStarted = "started"
)

// Entry is one line of the journal.
type Entry struct {
	Time     time.Time         `json:"time"`
	Run      string            `json:"run"`
	Env      string            `json:"env"`
	Phase    Phase             `json:"phase,omitempty"`  // Preflight, Phase1..Phase4, Monitor, Rollback
	Step     string            `json:"step"`             // 1.1, 1.2, ... or a name
	Action   string            `json:"action"`           // what was done, in words
	Manual   string            `json:"manual,omitempty"` // the runbook's equivalent manual command
	Status   string            `json:"status"`
	Error    string            `json:"error,omitempty"`
	Started  time.Time         `json:"started,omitempty"`
	Duration time.Duration     `json:"duration_ns,omitempty"`
	Data     map[string]string `json:"data,omitempty"` // backup file, sha256, images before/after, ...
}

// Journal appends entries to a run folder's journal file.
type Journal struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	run    string
	env    string
	redact func(string) string
	dir    string
}

// Open opens (creating if needed) the journal in dir. redact is applied to
// every string written; pass the target's Redact.
func Open(dir, run, env string, redact func(string) string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: create run folder %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, FileName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", filepath.Join(dir, FileName), err)
	}
	if redact == nil {
		redact = func(s string) string { return s }
	}
	return &Journal{f: f, w: bufio.NewWriter(f), run: run, env: env, redact: redact, dir: dir}, nil
}

// Dir is the run folder.
func (j *Journal) Dir() string { return j.dir }

// Add writes one entry, redacted, and syncs it to disk.
func (j *Journal) Add(e Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	e.Run, e.Env = j.run, j.env
	e.Action, e.Manual, e.Error = j.redact(e.Action), j.redact(e.Manual), j.redact(e.Error)
	if len(e.Data) > 0 {
		clean := make(map[string]string, len(e.Data))
		for k, v := range e.Data {
			clean[k] = j.redact(v)
		}
		e.Data = clean
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("journal: encode %s: %w", e.Step, err)
	}
	if _, err := j.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("journal: write: %w", err)
	}
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("journal: write: %w", err)
	}
	return j.f.Sync()
}

// Close closes the file.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return errors.Join(j.w.Flush(), j.f.Close())
}

// Read returns every entry of the journal in dir, in order.
func Read(dir string) ([]Entry, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("journal: %s line %d: %w", filepath.Join(dir, FileName), line, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Last returns the newest entry for which match is true.
func Last(entries []Entry, match func(Entry) bool) (Entry, bool) {
	for i := len(entries) - 1; i >= 0; i-- {
		if match(entries[i]) {
			return entries[i], true
		}
	}
	return Entry{}, false
}

// ParseRatio reads a ratio the way entries record rates: "0.0004" or
// "0.04%" (a percentage). NaN and infinities are not ratios.
func ParseRatio(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	div := 1.0
	if strings.HasSuffix(s, "%") {
		s, div = strings.TrimSpace(strings.TrimSuffix(s, "%")), 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v / div, true
}
