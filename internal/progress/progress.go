package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultEvery is how often a line is printed at most, unless Every says
// otherwise.
const DefaultEvery = 5 * time.Second

// Unit formats an amount ("12.3 MB", "2 pods ready"). Bytes, Count and
// Duration are the usual ones.
type Unit interface {
	// Amount formats done, or "done of total" when total > 0; approx marks
	// an estimated total.
	Amount(done, total int64, approx bool) string
}

// Progress reports on one long step. Its methods are safe for concurrent
// use; a nil *Progress does nothing, so callers may pass one optionally.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	what   string
	total  int64
	approx bool
	unit   Unit
	every  time.Duration
	now    func() time.Time
	ticker bool

	done    int64
	note    string
	start   time.Time
	printed time.Time
	ended   bool
	err     error
	stop    func() // the ticker's, nil with NoTicker
}

// Option sets an optional setting of New.
type Option func(*Progress)

// Every prints at most one line per d (DefaultEvery when d <= 0).
func Every(d time.Duration) Option {
	return func(p *Progress) {
		if d > 0 {
			p.every = d
		}
	}
}

// In sets the unit of the amounts (default Bytes).
func In(u Unit) Option { return func(p *Progress) { p.unit = u } }

// Approx marks the total as an estimate ("of ~40.0 MB").
func Approx() Option { return func(p *Progress) { p.approx = true } }

// NoTicker prints only when the caller reports, never between reports (for
// callers that report often, and for tests).
func NoTicker() Option { return func(p *Progress) { p.ticker = false } }

// WithClock replaces time.Now (tests and examples).
func WithClock(now func() time.Time) Option { return func(p *Progress) { p.now = now } }

// New starts reporting on a step: what is happening ("backup: dumping
// granter_db"), the total when known (0 when not). It prints the start
// line at once and, unless NoTicker, a line every Every until Done.
func New(w io.Writer, what string, total int64, opts ...Option) *Progress {
	p := &Progress{w: w, what: what, total: total, unit: Bytes, every: DefaultEvery, now: time.Now, ticker: true}
	for _, o := range opts {
		o(p)
	}
	p.start = p.now()
	p.mu.Lock()
	start := "started"
	if p.total > 0 {
		start += ": " + p.unit.Amount(0, p.total, p.approx)
	}
	p.printLocked(start)
	p.mu.Unlock()
	if p.ticker {
		p.stop = Repeat(p.every, p.tick)
	}
	return p
}

func (p *Progress) tick() {
	p.mu.Lock()
	if !p.ended && p.now().Sub(p.printed) >= p.every {
		p.printLocked(p.line())
	}
	p.mu.Unlock()
}

// Repeat calls fn every d, from another goroutine, until stop is called;
// stop waits for a call under way to return. It is the one ticker behind
// every progress report (Progress's lines, pgbackup's reports).
func Repeat(d time.Duration, fn func()) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fn()
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
		})
	}
}

// Update says how far the step got: done out of the total.
func (p *Progress) Update(done int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = done
	p.maybePrintLocked()
}

// Add adds n to the amount done.
func (p *Progress) Add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.maybePrintLocked()
}

// SetTotal changes the total (when it becomes known during the step).
func (p *Progress) SetTotal(total int64, approx bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.approx = total, approx
}

// Note sets a short text printed after the amount ("last: error rate
// 0.02%"); it is printed with the next line.
func (p *Progress) Note(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.note = fmt.Sprintf(format, args...)
}

// Write counts len(b) bytes as done, so a Progress can sit in an
// io.MultiWriter or io.TeeReader. It never fails.
func (p *Progress) Write(b []byte) (int, error) {
	p.Add(int64(len(b)))
	return len(b), nil
}

// Done stops the ticker and prints the last line, "<what>… <result>:
// <amount>, <elapsed>" (result "done" when empty). It returns the first
// error met writing any line. Calls after the first do nothing.
func (p *Progress) Done(result string) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	if p.ended {
		err := p.err
		p.mu.Unlock()
		return err
	}
	p.ended = true
	p.mu.Unlock()
	if p.stop != nil {
		p.stop()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if result == "" {
		result = "done"
	}
	line := result + ": " + p.unit.Amount(p.done, p.total, p.approx) + ", " + elapsed(p.now().Sub(p.start))
	if p.note != "" {
		line += " — " + p.note
	}
	p.printLocked(line)
	return p.err
}

// Elapsed is the time since New.
func (p *Progress) Elapsed() time.Duration {
	if p == nil {
		return 0
	}
	return p.now().Sub(p.start)
}

func (p *Progress) maybePrintLocked() {
	if !p.ended && p.now().Sub(p.printed) >= p.every {
		p.printLocked(p.line())
	}
}

// line is the current state: "12.3 MB of ~40.0 MB (31%), 8s".
func (p *Progress) line() string {
	s := p.unit.Amount(p.done, p.total, p.approx)
	if p.total > 0 {
		s += fmt.Sprintf(" (%d%%)", percent(p.done, p.total))
	}
	s += ", " + elapsed(p.now().Sub(p.start))
	if p.note != "" {
		s += " — " + p.note
	}
	return s
}

func (p *Progress) printLocked(s string) {
	p.printed = p.now()
	if p.err != nil {
		return
	}
	if _, err := fmt.Fprintf(p.w, "%s… %s\n", p.what, s); err != nil {
		p.err = fmt.Errorf("progress %q: %w", p.what, err)
	}
}

func percent(done, total int64) int64 {
	if total <= 0 {
		return 0
	}
	pc := done * 100 / total
	if pc > 100 && done <= total {
		pc = 100
	}
	return pc
}

// elapsed prints whole seconds, or milliseconds under a second.
func elapsed(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

type bytesUnit struct{}

// Bytes prints amounts as megabytes: "12.3 MB of ~40.0 MB".
var Bytes Unit = bytesUnit{}

func (bytesUnit) Amount(done, total int64, approx bool) string {
	s := mb(done)
	if total > 0 {
		s += " of " + tilde(approx) + mb(total)
	}
	return s
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

type countUnit struct{ noun string }

// Count prints amounts as counts of noun: "2 of 3 pods ready".
func Count(noun string) Unit { return countUnit{noun} }

func (c countUnit) Amount(done, total int64, approx bool) string {
	if total > 0 {
		return fmt.Sprintf("%d of %s%d %s", done, tilde(approx), total, c.noun)
	}
	return fmt.Sprintf("%d %s", done, c.noun)
}

type durationUnit struct{}

// Duration prints amounts (nanoseconds) as durations: "5m0s of 4h0m0s",
// for a watch over a window.
var Duration Unit = durationUnit{}

func (durationUnit) Amount(done, total int64, approx bool) string {
	s := time.Duration(done).Round(time.Second).String()
	if total > 0 {
		s += " of " + tilde(approx) + time.Duration(total).Round(time.Second).String()
	}
	return s
}

func tilde(approx bool) string {
	if approx {
		return "~"
	}
	return ""
}
