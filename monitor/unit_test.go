package monitor

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/internal/target"
)

func TestRunbookSchedule(t *testing.T) {
	s := MustParseSchedule(RunbookSchedule)
	assert.Equal(t, 4*time.Hour, s.Total(), "the runbook watches four hours")
	assert.Equal(t, phase4.MonitorWindow, s.Total(), "the report judges criterion 11 against phase4.MonitorWindow")
	slots := s.Slots()
	require.Len(t, slots, 16)
	var at []time.Duration
	for _, sl := range slots {
		at = append(at, sl.At)
	}
	m := time.Minute
	assert.Equal(t, []time.Duration{0, 5 * m, 10 * m, 15 * m, 20 * m, 25 * m, 30 * m, 40 * m, 50 * m, 60 * m,
		90 * m, 120 * m, 150 * m, 180 * m, 210 * m, 240 * m}, at, "every 5 min to 30, every 10 to 60, every 30 to hour 4")
	assert.Equal(t, 5*m, slots[0].Window, "the first round looks back one interval")
	assert.Equal(t, 10*m, slots[7].Window)
	assert.Equal(t, 30*m, slots[15].Window)
	assert.Equal(t, RunbookSchedule, s.String())
}

func TestScheduleCompress(t *testing.T) {
	s, err := MustParseSchedule(RunbookSchedule).Compress(240)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, s.Total(), "4 hours compressed 240x")
	assert.Equal(t, 1250*time.Millisecond, s.Stages[0].Every)
	assert.Contains(t, s.String(), "compressed 240x")
	_, err = s.Compress(0.5)
	assert.Error(t, err)
}

func TestParseScheduleErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":            "empty",
		"5m x6,":      "stage 2 is empty",
		"five x6":     "not a positive duration",
		"5m 6":        "want x<count>",
		"5m x0":       "want x<count>",
		"5m x6 extra": "want \"<interval> x<rounds>\"",
		"-5m":         "not a positive duration",
	} {
		_, err := ParseSchedule(in)
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), want, in)
		}
	}
	s, err := ParseSchedule("10s")
	require.NoError(t, err)
	assert.Equal(t, []Stage{{Every: 10 * time.Second, Rounds: 1}}, s.Stages)
}

func runbookThresholds() target.Thresholds {
	return target.Thresholds{ErrorRate: 0.001, RollbackErrorRate: 0.01, APIP95: 200 * time.Millisecond}
}

// The rule: "> 1% error rate or core functionality broken". A breach of
// the 0.1% monitoring threshold alone is not a rollback.
func TestShouldRollback(t *testing.T) {
	th := runbookThresholds()
	rate := func(errs, reqs float64, st Status) Check {
		r := stats.UnderThreshold(errs, reqs, th.ErrorRate)
		return Check{Key: keyErrorRate, Value: r.Rate, Status: st, Rate: &r}
	}
	for _, tc := range []struct {
		name   string
		checks []Check
		want   bool
		reason string
	}{
		{"healthy", []Check{rate(0, 4000, Pass)}, false, "not met"},
		{"0.5% breaches monitoring, not the trigger", []Check{rate(5, 1000, Breach)}, false, "error rate 0.50% (5/1,000)"},
		{"exactly 1% is not above", []Check{rate(10, 1000, Breach)}, false, "not met"},
		{"1.5% on 100 requests is not shown above 1%", []Check{rate(1.5, 100, Breach)}, false, "INCONCLUSIVE"},
		{"5% triggers", []Check{rate(50, 1000, Breach)}, true, "error rate 5.00% (50/1,000), 95% lower bound"},
		{"login broken triggers", []Check{rate(0, 4000, Pass), {Key: keySmoke + "auth", Status: Breach}}, true, "core functionality broken: auth"},
		{"p95 alone does not", []Check{rate(0, 4000, Pass), {Key: keyP95, Value: 0.5, Status: Breach}}, false, "not met"},
		{"no data is not a trigger", []Check{{Key: keyErrorRate, Value: math.NaN(), Status: NoData}}, false, "not measured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ShouldRollback(tc.checks, th)
			assert.Equal(t, tc.want, d.Rollback, d.Reason)
			assert.Contains(t, d.Reason, tc.reason)
		})
	}
}

// A breach names the metric, the value, the threshold and the query.
func TestBreachMessage(t *testing.T) {
	c := Check{Metric: MetricErrorRate, Key: keyErrorRate, Status: Breach, Value: 0.0498, Shown: "4.98%",
		Threshold: 0.001, ThresholdShown: "< 0.10%", Query: `(sum(rate(http_requests_total{status=~"5.."}[10s])) or vector(0)) / sum(rate(http_requests_total[10s]))`,
		Window: 10 * time.Second, Source: "prometheus", Detail: "312 requests, 16 answered 5xx"}
	err := (&BreachError{Round: 3, Checks: []Check{c}}).Error()
	for _, want := range []string{"round 3", "error rate", "4.98%", "threshold < 0.10%", "query: (sum(rate(http_requests_total", "window 10s", "312 requests"} {
		assert.Contains(t, err, want)
	}
	d := journalData(c)
	assert.Equal(t, "0.049800", d["error_rate"])
	assert.Equal(t, "0.001", d["error_rate.threshold"])
	assert.Equal(t, "312", d["error_rate.requests"])
	assert.Equal(t, c.Query, d["error_rate.query"])
}

func TestJournalDataUnits(t *testing.T) {
	d := journalData(Check{Key: keyP95, Status: Pass, Value: 0.123, Threshold: 0.2})
	assert.Equal(t, "123ms", d["p95"])
	assert.Equal(t, "200ms", d["p95.threshold"])
	d = journalData(Check{Key: keyCPU, Status: Breach, Value: 0.812, Threshold: 0.7})
	assert.Equal(t, "81.2%", d["cpu"])
	assert.Equal(t, "70%", d["cpu.threshold"])
	d = journalData(Check{Key: keyConnections, Status: Pass, Value: 12, Threshold: 100})
	assert.Equal(t, "12", d["connections"])
	assert.Equal(t, "100", d["connections.threshold"])
	d = journalData(Check{Key: keyErrorRate, Status: NoData, Value: math.NaN(), Threshold: 0.001, Err: errors.New("no data: 3 requests")})
	assert.Equal(t, "no data", d["error_rate"], "no data is written as such, never as 0")
	assert.Contains(t, d["error_rate.error"], "3 requests")
	assert.NotContains(t, d, "error_rate.threshold", "nothing to compare")
	d = journalData(Check{Key: keySmoke + "auth", Status: Breach, Value: 1})
	assert.Equal(t, "failed", d["smoke.auth"])
}

func TestRegress(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC)
	line := func(f func(i int) float64) []metrics.Point {
		var p []metrics.Point
		for i := range 60 {
			p = append(p, metrics.Point{Time: t0.Add(time.Duration(i) * time.Minute), Value: f(i)})
		}
		return p
	}
	// A leak: +1 MB a minute on 100 MB.
	f, ok := regress(line(func(i int) float64 { return 100e6 + float64(i)*1e6 }))
	require.True(t, ok)
	assert.InDelta(t, 1e6/60, f.slope, 1)
	assert.InDelta(t, 1, f.r2, 1e-9)
	// Flat with a GC sawtooth: no sustained growth.
	f, ok = regress(line(func(i int) float64 { return 100e6 + float64(i%5)*3e6 }))
	require.True(t, ok)
	assert.Less(t, f.r2, 0.5)
	_, ok = regress(line(func(int) float64 { return 1 })[:4])
	assert.False(t, ok, "fewer than 5 points is no fit")
}

func TestCheckString(t *testing.T) {
	c := Check{Metric: MetricConnections, Status: Skipped, Err: errors.New("the target gives no database access")}
	assert.True(t, strings.HasPrefix(c.String(), "skipped active connections: the target gives no database access"), c.String())
	assert.False(t, c.Failed(), "skipped does not fail a round")
	assert.False(t, c.Passed(), "and never counts as passed")
}

// A compressed watch is refused on a target that is not a rehearsal (prod,
// staging): it could not show stable metrics. The runbook's own schedule
// is allowed everywhere; a rehearsal target may compress it.
func TestCompressedWatchOnlyOnARehearsal(t *testing.T) {
	short, err := MustParseSchedule(RunbookSchedule).Compress(240)
	require.NoError(t, err)
	prod := &target.Target{Env: "prod", File: "environments/prod.yaml", ReadOnly: true}
	err = ScheduleAllowed(prod, short)
	require.Error(t, err)
	for _, want := range []string{"a watch of 1m0s", "shorter than the runbook's 4h0m0s", "prod is not a rehearsal target", "rehearsal: true in environments/prod.yaml"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = New(prod, Options{Schedule: short})
	require.Error(t, err, "monitor.New refuses it too, whatever calls it")
	assert.NoError(t, ScheduleAllowed(prod, MustParseSchedule(RunbookSchedule)))
	assert.NoError(t, ScheduleAllowed(&target.Target{Env: "local", Rehearsal: true}, short))
}
