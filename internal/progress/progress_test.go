package progress_test

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/progress"
)

// lines is a writer that hands every line to a channel.
type lines struct {
	mu  sync.Mutex
	all []string
	ch  chan string
}

func (l *lines) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.all = append(l.all, strings.TrimRight(string(b), "\n"))
	l.mu.Unlock()
	l.ch <- strings.TrimRight(string(b), "\n")
	return len(b), nil
}

// A step that reports nothing still says, on the ticker, how long it has
// been going: the watch of a stuck rollout is never silent.
func TestTickerReportsAStuckStep(t *testing.T) {
	w := &lines{ch: make(chan string, 100)}
	p := progress.New(w, "rollout data-service", 2, progress.In(progress.Count("pods ready")), progress.Every(20*time.Millisecond))
	assert.Equal(t, "rollout data-service… started: 0 of 2 pods ready", <-w.ch)
	deadline := time.After(10 * time.Second)
	for range 2 {
		select {
		case got := <-w.ch:
			assert.Regexp(t, `^rollout data-service… 0 of 2 pods ready \(0%\), \d+ms$`, got)
		case <-deadline:
			t.Fatal("no ticker line in 10s")
		}
	}
	require.NoError(t, p.Done("timed out"))
	// Lines already in flight are drained; the last one is Done's.
	var last string
	for len(w.ch) > 0 {
		last = <-w.ch
	}
	assert.Regexp(t, `^rollout data-service… timed out: 0 of 2 pods ready, \d+ms$`, last)
	n := len(w.all)
	require.NoError(t, p.Done("again"), "Done twice is harmless")
	assert.Len(t, w.all, n, "nothing printed after Done")
	p.Update(2)
	assert.Len(t, w.all, n, "nothing printed after Done")
}

func TestWriterCountsBytesAndDurationUnit(t *testing.T) {
	var b strings.Builder
	now := time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := progress.New(&b, "restore: reading backup-20260303-140000.dump", 0, progress.NoTicker(), progress.WithClock(clock))
	now = now.Add(6 * time.Second)
	_, err := io.Copy(p, strings.NewReader(strings.Repeat("x", 2_500_000)))
	require.NoError(t, err)
	require.NoError(t, p.Done(""))
	assert.Equal(t, `restore: reading backup-20260303-140000.dump… started
restore: reading backup-20260303-140000.dump… 2.5 MB, 6s
restore: reading backup-20260303-140000.dump… done: 2.5 MB, 6s
`, b.String())

	b.Reset()
	w := progress.New(&b, "monitor: watching", int64(4*time.Hour), progress.In(progress.Duration), progress.NoTicker(), progress.WithClock(clock))
	now = now.Add(5 * time.Minute)
	w.Note("error rate 0.02%%, p95 120ms")
	w.Update(int64(5 * time.Minute))
	assert.Contains(t, b.String(), "monitor: watching… 5m0s of 4h0m0s (2%), 5m0s — error rate 0.02%, p95 120ms")
	require.NoError(t, w.Done("stopped"))
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorIsReturnedByDone(t *testing.T) {
	p := progress.New(failing{}, "backup", 0, progress.NoTicker())
	err := p.Done("")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
}

func TestNilIsANoOp(t *testing.T) {
	var p *progress.Progress
	p.Update(1)
	p.Add(1)
	p.Note("x")
	assert.NoError(t, p.Done(""))
}

func TestRepeatCallsUntilStopped(t *testing.T) {
	var n atomic.Int32
	stop := progress.Repeat(time.Millisecond, func() { n.Add(1) })
	require.Eventually(t, func() bool { return n.Load() >= 3 }, 5*time.Second, time.Millisecond)
	stop()
	after := n.Load()
	stop() // a second stop does nothing
	// No event says "a tick did not happen": give a stray ticker time to
	// misbehave, then look.
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, after, n.Load(), "fn was called after stop")
}
