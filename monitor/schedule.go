package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
)

// RunbookSchedule is the MONITORING PHASE as written: every 5 minutes for
// the first 30 minutes, every 10 minutes for the next 30, every 30 minutes
// until hour 4.
const RunbookSchedule = "5m x6, 10m x3, 30m x6"

// Stage is one part of the schedule: Rounds rounds, Every apart.
type Stage struct {
	Every  time.Duration
	Rounds int
}

// Schedule is when the watch checks the metrics. Round 1 runs at the start
// and looks back one interval of the first stage; then one round at the end
// of every interval, which looks back over that interval, so the rounds
// together cover every minute of the watch. RunbookSchedule has 16 rounds
// over 4 hours.
type Schedule struct {
	Stages []Stage
	// Factor is the compression applied (1 for the runbook's own times);
	// it only labels the schedule.
	Factor float64
}

// Slot is one round of a schedule.
type Slot struct {
	N      int           // 1-based
	Of     int           // rounds in all
	At     time.Duration // from the start of the watch
	Window time.Duration // how far back the round looks
}

// ParseSchedule reads "5m x6, 10m x3, 30m x6": comma-separated stages, each
// an interval (a Go duration) and "x<rounds>" (x1 when left out).
func ParseSchedule(s string) (Schedule, error) {
	var sch Schedule
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return Schedule{}, fmt.Errorf("schedule %q: stage %d is empty (want e.g. %q)", s, i+1, RunbookSchedule)
		}
		fields := strings.Fields(part)
		if len(fields) > 2 {
			return Schedule{}, fmt.Errorf("schedule %q: stage %q: want \"<interval> x<rounds>\", e.g. \"5m x6\"", s, part)
		}
		every, err := time.ParseDuration(fields[0])
		if err != nil || every <= 0 {
			return Schedule{}, fmt.Errorf("schedule %q: stage %q: interval %q is not a positive duration (5m, 30s)", s, part, fields[0])
		}
		rounds := 1
		if len(fields) == 2 {
			n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(fields[1]), "x"))
			if err != nil || n < 1 || !strings.HasPrefix(strings.ToLower(fields[1]), "x") {
				return Schedule{}, fmt.Errorf("schedule %q: stage %q: rounds %q: want x<count>, count >= 1", s, part, fields[1])
			}
			rounds = n
		}
		sch.Stages = append(sch.Stages, Stage{Every: every, Rounds: rounds})
	}
	sch.Factor = 1
	return sch, nil
}

// MustParseSchedule is ParseSchedule for constants; it panics on an error.
func MustParseSchedule(s string) Schedule {
	sch, err := ParseSchedule(s)
	if err != nil {
		panic(err)
	}
	return sch
}

// String prints the schedule as ParseSchedule reads it.
func (s Schedule) String() string {
	parts := make([]string, len(s.Stages))
	for i, st := range s.Stages {
		parts[i] = fmt.Sprintf("%s x%d", short(st.Every), st.Rounds)
	}
	out := strings.Join(parts, ", ")
	if s.Factor > 1 {
		out += fmt.Sprintf(" (compressed %gx)", s.Factor)
	}
	return out
}

// Compress divides every interval by factor (>= 1), for drills: the
// runbook's 4 hours compressed 240x take one minute. Intervals are rounded
// to the millisecond and never shorter than a millisecond.
func (s Schedule) Compress(factor float64) (Schedule, error) {
	if factor < 1 {
		return Schedule{}, fmt.Errorf("compression factor %g: want >= 1", factor)
	}
	out := Schedule{Factor: s.factor() * factor}
	for _, st := range s.Stages {
		every := time.Duration(float64(st.Every) / factor).Round(time.Millisecond)
		out.Stages = append(out.Stages, Stage{Every: max(every, time.Millisecond), Rounds: st.Rounds})
	}
	return out, nil
}

func (s Schedule) factor() float64 {
	if s.Factor < 1 {
		return 1
	}
	return s.Factor
}

// Total is how long the watch lasts: the sum of every stage.
func (s Schedule) Total() time.Duration {
	var d time.Duration
	for _, st := range s.Stages {
		d += st.Every * time.Duration(st.Rounds)
	}
	return d
}

// Slots lists the rounds: one at the start, then one at the end of every
// interval.
func (s Schedule) Slots() []Slot {
	if len(s.Stages) == 0 {
		return nil
	}
	n := 1
	for _, st := range s.Stages {
		n += st.Rounds
	}
	out := []Slot{{N: 1, Of: n, At: 0, Window: s.Stages[0].Every}}
	at := time.Duration(0)
	for _, st := range s.Stages {
		for range st.Rounds {
			at += st.Every
			out = append(out, Slot{N: len(out) + 1, Of: n, At: at, Window: st.Every})
		}
	}
	return out
}

// short prints 5m rather than 5m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ScheduleAllowed refuses a watch shorter than the runbook's 4 hours
// (phase4.MonitorWindow) on a target that is not a rehearsal: on staging
// or prod a compressed watch ("COMPRESS=240", "SCHEDULE=30s x2") proves
// nothing about stable metrics, and must not look as if it did.
func ScheduleAllowed(tgt *target.Target, s Schedule) error {
	if s.Total() >= phase4.MonitorWindow || tgt.Rehearsal {
		return nil
	}
	return exitcode.Wrap(exitcode.Config, fmt.Errorf("monitor: a watch of %s (%s) is shorter than the runbook's %s, and %s is not a rehearsal target: it could not show \"Monitoring shows stable metrics\"; watch the whole %s (the default schedule %q), or compress only on a rehearsal target (rehearsal: true in %s)",
		s.Total(), s, phase4.MonitorWindow, tgt.Env, phase4.MonitorWindow, RunbookSchedule, tgt.File))
}
