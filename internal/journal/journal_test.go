package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalRoundTripRedactedAndPrivate(t *testing.T) {
	dir := t.TempDir()
	redact := func(s string) string { return strings.ReplaceAll(s, "hunter22", "[REDACTED:PW]") }
	j, err := Open(dir, "run-1", "local", redact)
	require.NoError(t, err)
	require.NoError(t, j.Add(Entry{Phase: "phase1", Step: "1.1", Action: "backup with hunter22", Status: StatusOK,
		Duration: 1500 * time.Millisecond, Data: map[string]string{"file": "b.dump", "dsn": "postgres://u:hunter22@h/db"}}))
	require.NoError(t, j.Add(Entry{Phase: "phase2", Step: "2.1", Action: "migrate", Status: StatusFailed, Error: "boom hunter22"}))
	require.NoError(t, j.Close())

	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "hunter22")
	st, err := os.Stat(filepath.Join(dir, FileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the journal is readable by its owner only")

	got, err := Read(dir)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "run-1", got[0].Run)
	assert.Equal(t, 1500*time.Millisecond, got[0].Duration)
	assert.Equal(t, "b.dump", got[0].Data["file"])
	e, ok := Last(got, func(e Entry) bool { return e.Status == StatusFailed })
	require.True(t, ok)
	assert.Equal(t, "2.1", e.Step)
	assert.Equal(t, "boom [REDACTED:PW]", e.Error)
}

func TestReadNamesTheBadLine(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte("{\"step\":\"1.1\"}\nnot json\n"), 0o600))
	_, err := Read(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
}

func TestParseRatio(t *testing.T) {
	for in, want := range map[string]float64{"0.0004": 0.0004, "4.2%": 0.042, " 0.1 % ": 0.001} {
		v, ok := ParseRatio(in)
		assert.True(t, ok, in)
		assert.InDelta(t, want, v, 1e-12, in)
	}
	for _, in := range []string{"", "no data", "NaN", "Inf%", "< 0.1%"} {
		_, ok := ParseRatio(in)
		assert.False(t, ok, "%q is not a ratio", in)
	}
}

// The timeline reads as the runbook writes it, and its deployment phases
// follow each other without a gap.
func TestTimeline(t *testing.T) {
	if got := WindowOf(Phase1).Clock(); got != "14:00-14:15" {
		t.Errorf("Phase 1 window: want 14:00-14:15, got %s", got)
	}
	if got := WindowOf(Rollback).Clock(); got != "15m" {
		t.Errorf("rollback window: want 15m (floating), got %s", got)
	}
	var prev *Window
	for i, w := range Timeline {
		if w.Floating {
			continue
		}
		if prev != nil && w.Start != prev.End {
			t.Errorf("%s starts at %s, %s ended at %s", w.Phase, ClockAt(Origin+w.Start), prev.Phase, ClockAt(Origin+prev.End))
		}
		prev = &Timeline[i]
	}
	if w := WindowOf("nonsense"); w.Title != "nonsense" || w.Budget() != 0 {
		t.Errorf("an unknown phase: want a window of no length titled with its name, got %+v", w)
	}
}
