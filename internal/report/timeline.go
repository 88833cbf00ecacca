package report

import (
	"time"

	"github.com/granter/runbook/internal/gotestjson"
	"github.com/granter/runbook/internal/journal"
)

// PhaseRow is one row of the timeline: the planned window and what happened.
type PhaseRow struct {
	journal.Window
	PlannedStart, PlannedEnd time.Duration // from the origin (13:00)
	Ran                      bool
	ActualStart, ActualEnd   time.Duration // from the origin, aligned (see timeline)
	StartedAt, EndedAt       time.Time     // wall clock
	Steps, Failed            int
	Status                   string // ok, failed, skipped, not run
	Overrun                  bool   // took longer than planned
	Late                     time.Duration
}

// PlannedDuration is the planned window's length.
func (p PhaseRow) PlannedDuration() time.Duration { return p.PlannedEnd - p.PlannedStart }

// ActualDuration is how long the phase took.
func (p PhaseRow) ActualDuration() time.Duration { return p.ActualEnd - p.ActualStart }

// PlannedClock is "14:15–14:25".
func (p PhaseRow) PlannedClock() string {
	return journal.ClockAt(journal.Origin+p.PlannedStart) + "–" + journal.ClockAt(journal.Origin+p.PlannedEnd)
}

// ActualClock is "14:02:11–14:03:05 UTC".
func (p PhaseRow) ActualClock() string {
	if !p.Ran {
		return ""
	}
	return p.StartedAt.UTC().Format("15:04:05") + "–" + p.EndedAt.UTC().Format("15:04:05") + " UTC"
}

// span is when a phase ran, from the journal and the gates.
type span struct {
	start, end    time.Time
	steps, failed int
	okSteps       int
}

func (s *span) add(start, end time.Time) {
	if start.IsZero() {
		start = end
	}
	if start.IsZero() {
		return
	}
	if s.start.IsZero() || start.Before(s.start) {
		s.start = start
	}
	if end.After(s.end) {
		s.end = end
	}
}

// timeline aligns what happened with the runbook's plan. The first phase
// that ran is put at its planned start (a run that begins with Phase 1 is
// read as starting at 14:00); everything after keeps its real distance
// from it. The rollback's window starts when it did.
func timeline(r *Run) []PhaseRow {
	spans := map[journal.Phase]*span{}
	get := func(p journal.Phase) *span {
		if spans[p] == nil {
			spans[p] = &span{}
		}
		return spans[p]
	}
	for _, e := range r.Entries {
		if e.Phase == "" {
			continue
		}
		s := get(e.Phase)
		s.add(entryStart(e), e.Time)
		s.steps++
		switch e.Status {
		case journal.StatusFailed:
			s.failed++
		case journal.StatusOK:
			s.okSteps++
		}
	}
	for _, g := range r.Gates {
		s := get(gatePhase(g.Name))
		s.add(g.Result.Start, g.Result.End)
		for _, t := range g.Result.Tests {
			if t.Status == gotestjson.Failed && len(g.Result.Subtests(t.Name)) == 0 {
				s.failed++
			}
			if t.Status == gotestjson.Passed {
				s.okSteps++
			}
			s.steps++
		}
		if g.Result.PackageFailed() && s.failed == 0 {
			s.failed++
		}
	}
	// The origin: the first phase that ran is put at its planned start.
	var origin, first time.Time
	for _, p := range journal.Timeline {
		s := spans[p.Phase]
		if s == nil || p.Floating || s.start.IsZero() {
			continue
		}
		if first.IsZero() || s.start.Before(first) {
			first, origin = s.start, s.start.Add(-p.Start)
		}
	}
	var rows []PhaseRow
	for _, p := range journal.Timeline {
		row := PhaseRow{Window: p, PlannedStart: p.Start, PlannedEnd: p.End, Status: "not run"}
		s := spans[p.Phase]
		if s != nil && !s.start.IsZero() {
			if origin.IsZero() {
				origin = s.start // only a rollback ran
			}
			row.Ran = true
			row.StartedAt, row.EndedAt = s.start, s.end
			row.ActualStart, row.ActualEnd = s.start.Sub(origin), s.end.Sub(origin)
			row.Steps, row.Failed = s.steps, s.failed
			switch {
			case s.failed > 0:
				row.Status = "failed"
			case s.okSteps == 0:
				row.Status = "skipped"
			default:
				row.Status = "ok"
			}
			if p.Floating {
				row.PlannedStart, row.PlannedEnd = row.ActualStart, row.ActualStart+(p.End-p.Start)
			}
			row.Overrun = row.ActualDuration() > row.PlannedDuration()+overrunTolerance(row.PlannedDuration())
			if late := row.ActualEnd - row.PlannedEnd; late > 0 {
				row.Late = late
			}
		}
		if p.Floating && !row.Ran {
			continue // no rollback: no row
		}
		rows = append(rows, row)
	}
	return rows
}

// overrunTolerance is how much longer than planned a phase may take before
// it counts as an overrun: 5% of the plan, so a four-hour watch that
// ends a second late is not painted red.
func overrunTolerance(planned time.Duration) time.Duration { return planned / 20 }

// axis maps offsets from 13:00 to [0,1]: the hour of the deployment
// (14:00-15:00) gets the most room, the checklist hour and the four hours
// of monitoring less, so ten-minute phases stay readable beside a
// four-hour watch. The last segment stretches to the latest end.
type axis struct{ max time.Duration }

var axisKnots = []struct {
	at  time.Duration
	pos float64
}{{0, 0}, {60 * time.Minute, 0.17}, {120 * time.Minute, 0.66}, {360 * time.Minute, 1}}

func newAxis(rows []PhaseRow) axis {
	a := axis{max: 360 * time.Minute}
	for _, r := range rows {
		if r.ActualEnd > a.max {
			a.max = r.ActualEnd
		}
		if r.PlannedEnd > a.max {
			a.max = r.PlannedEnd
		}
	}
	return a
}

func (a axis) pos(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	for i := 1; i < len(axisKnots); i++ {
		lo, hi := axisKnots[i-1], axisKnots[i]
		end := hi.at
		if i == len(axisKnots)-1 {
			end = a.max
		}
		if d <= end {
			return lo.pos + (hi.pos-lo.pos)*float64(d-lo.at)/float64(end-lo.at)
		}
	}
	return 1
}

// Ticks are the axis's labelled times.
func (a axis) ticks() []time.Duration {
	t := []time.Duration{0, 60 * time.Minute, 75 * time.Minute, 85 * time.Minute, 100 * time.Minute, 120 * time.Minute}
	for h := 3 * time.Hour; h <= a.max; h += time.Hour {
		t = append(t, h)
	}
	return t
}
