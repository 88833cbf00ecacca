package journal

import (
	"fmt"
	"time"
)

// Phase is a part of the runbook, as journal entries name it.
type Phase string

// The phases, in the runbook's order.
const (
	Preflight Phase = "preflight" // the pre-deployment checklist
	Phase1    Phase = "phase1"    // Pre-Deployment
	Phase2    Phase = "phase2"    // Database Migration
	Phase3    Phase = "phase3"    // Deploy Services
	Phase4    Phase = "phase4"    // Post-Deployment Validation
	Monitor   Phase = "monitor"   // the 4-hour watch
	Rollback  Phase = "rollback"  // the ROLLBACK PROCEDURE
)

// Window is a phase's place in the runbook's TIMELINE SUMMARY: offsets
// from Origin (13:00, the checklist's start).
type Window struct {
	Phase Phase
	Title string // "Phase 1: Pre-Deployment"
	Start time.Duration
	End   time.Duration
	// Floating: the phase has no fixed window, only a duration, counted
	// from when it actually started (the rollback: "Estimated rollback
	// time: 15 minutes").
	Floating bool
}

// Origin is the runbook's 13:00, where the timeline starts.
const Origin = 13 * time.Hour

// Timeline is the runbook's TIMELINE SUMMARY, one window per phase, in
// order. The deploy command's phase headers and the go-live report's
// planned-vs-actual both read it.
var Timeline = []Window{
	{Phase: Preflight, Title: "Pre-deployment checklist", Start: 0, End: 60 * time.Minute},
	{Phase: Phase1, Title: "Phase 1: Pre-Deployment", Start: 60 * time.Minute, End: 75 * time.Minute},
	{Phase: Phase2, Title: "Phase 2: Database Migration", Start: 75 * time.Minute, End: 85 * time.Minute},
	{Phase: Phase3, Title: "Phase 3: Deploy Services", Start: 85 * time.Minute, End: 100 * time.Minute},
	{Phase: Phase4, Title: "Phase 4: Post-Deployment Validation", Start: 100 * time.Minute, End: 120 * time.Minute},
	{Phase: Monitor, Title: "Monitoring (4 hours)", Start: 120 * time.Minute, End: 360 * time.Minute},
	{Phase: Rollback, Title: "Rollback", Start: 0, End: 15 * time.Minute, Floating: true},
}

// WindowOf is the phase's window; for a phase not in the Timeline, a
// window of no length titled with the phase's name.
func WindowOf(p Phase) Window {
	for _, w := range Timeline {
		if w.Phase == p {
			return w
		}
	}
	return Window{Phase: p, Title: string(p)}
}

// Budget is the window's length.
func (w Window) Budget() time.Duration { return w.End - w.Start }

// Clock is the window as the runbook writes it: "14:00-14:15" ("15m" for
// a floating window).
func (w Window) Clock() string {
	if w.Floating {
		return fmt.Sprintf("%dm", int(w.Budget()/time.Minute))
	}
	return ClockAt(Origin+w.Start) + "-" + ClockAt(Origin+w.End)
}

// ClockAt is a time of day as "14:05".
func ClockAt(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int((d%time.Hour)/time.Minute))
}
