package pgbackup

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/granter/runbook/internal/progress"
)

// Progress is one report on a long step.
type Progress struct {
	Stage    string // "dumping", "restoring", "comparing"
	Database string
	Bytes    int64 // written (dumping) or read (restoring) so far
	Total    int64 // the whole, when known (restoring); 0 otherwise
	Elapsed  time.Duration
	Done     bool // the last report of the stage
}

// String reads "dumping granter_db… 12.3 MB, 8s".
func (p Progress) String() string {
	s := fmt.Sprintf("%s %s… %s", p.Stage, p.Database, MB(p.Bytes))
	if p.Total > 0 {
		s += fmt.Sprintf(" of %s", MB(p.Total))
	}
	s += ", " + p.Elapsed.Round(time.Second).String()
	if p.Done {
		s += ", done"
	}
	return s
}

// MB formats a byte count as "12.3 MB".
func MB(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// Option sets an optional setting of Dump, Verify and Restore.
type Option func(*options)

type options struct {
	progress     func(Progress)
	every        time.Duration
	now          func() time.Time
	afterRestore func(ctx context.Context, copy Source) error
	restoreArgs  []string                // extra pg_restore arguments (tests; DumpVerified's sections)
	switchHook   func(point string) bool // tests: interrupt the switch
}

// DefaultProgressEvery is how often progress is reported.
const DefaultProgressEvery = 5 * time.Second

// WithProgress calls fn every `every` (DefaultProgressEvery when 0) during
// the dump, the restore and the comparison, and once when each ends. fn is
// called from another goroutine; keep it short.
func WithProgress(fn func(Progress), every time.Duration) Option {
	return func(o *options) {
		o.progress = fn
		if every > 0 {
			o.every = every
		}
	}
}

// withClock replaces time.Now (tests).
func withClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func collect(opts []Option) options {
	o := options{every: DefaultProgressEvery, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// withRestoreArgs is o with args added to every pg_restore it runs.
func (o options) withRestoreArgs(args ...string) options {
	o.restoreArgs = append(slices.Clone(o.restoreArgs), args...)
	return o
}

// meter reports the progress of one stage on a ticker until stop.
type meter struct {
	bytes atomic.Int64
	stop  func()
}

func (o options) meter(stage, database string, total int64) *meter {
	m := &meter{}
	if o.progress == nil {
		m.stop = func() {}
		return m
	}
	start := time.Now()
	report := func(done bool) {
		o.progress(Progress{Stage: stage, Database: database, Bytes: m.bytes.Load(), Total: total, Elapsed: time.Since(start), Done: done})
	}
	stopTicker := progress.Repeat(o.every, func() { report(false) })
	var once sync.Once
	m.stop = func() {
		once.Do(func() {
			stopTicker()
			report(true)
		})
	}
	return m
}

// Write counts bytes going through (io.MultiWriter / io.TeeReader).
func (m *meter) Write(p []byte) (int, error) {
	m.bytes.Add(int64(len(p)))
	return len(p), nil
}
