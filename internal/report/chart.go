package report

import (
	"fmt"
	"math"

	"github.com/granter/runbook/internal/journal"
)

// chart is the timeline as SVG coordinates: one row per phase, the
// planned window as a pale bar, what happened as a solid bar below it
// (green on time, red when it overran or failed).
type chart struct {
	Width, Height    int
	ChartX, ChartW   int
	AxisY            int
	Rows             []chartRow
	Ticks            []chartTick
	LegendY, FooterY int
}

type chartRow struct {
	Y, MidY, PlanY, ActY, TextY, SubY int
	Label, Sub                        string
	PlanX, PlanW                      int
	Ran                               bool
	ActX, ActW                        int
	Class                             string // ok, overrun, failed
	Note                              string // beside the actual bar
	NoteX                             int
	NoteAnchor                        string
}

type chartTick struct {
	X     int
	Label string
}

const (
	chartWidth  = 1000
	labelWidth  = 290 // fits "Phase 4: Post-Deployment Validation" in 13px bold
	rowHeight   = 46
	chartTop    = 34
	chartRightM = 20
)

func newChart(rows []PhaseRow) chart {
	c := chart{Width: chartWidth, ChartX: labelWidth, ChartW: chartWidth - labelWidth - chartRightM, AxisY: chartTop - 10}
	ax := newAxis(rows)
	x := func(d float64) int { return c.ChartX + int(math.Round(d*float64(c.ChartW))) }
	for _, t := range ax.ticks() {
		c.Ticks = append(c.Ticks, chartTick{X: x(ax.pos(t)), Label: journal.ClockAt(journal.Origin + t)})
	}
	for i, r := range rows {
		y := chartTop + i*rowHeight
		cr := chartRow{Y: y, MidY: y + rowHeight/2, PlanY: y + 8, ActY: y + 24, TextY: y + 19, SubY: y + 35, Label: r.Title}
		cr.PlanX = x(ax.pos(r.PlannedStart))
		cr.PlanW = max(x(ax.pos(r.PlannedEnd))-cr.PlanX, 2)
		cr.Sub = "planned " + r.PlannedClock() + " (" + took(r.PlannedDuration()) + ")"
		if r.Floating {
			cr.Sub = "estimated " + took(r.PlannedDuration()) + " (checklist item 6)"
		}
		if r.Ran {
			cr.Ran = true
			cr.ActX = x(ax.pos(r.ActualStart))
			cr.ActW = max(x(ax.pos(r.ActualEnd))-cr.ActX, 3)
			cr.Class = "ok"
			cr.Note = "took " + took(r.ActualDuration())
			switch {
			case r.Status == "failed":
				cr.Class = "failed"
				cr.Note += " · FAILED"
			case r.Overrun:
				cr.Class = "overrun"
				cr.Note += " · OVERRAN by " + took(r.ActualDuration()-r.PlannedDuration())
			case r.Status == "skipped":
				cr.Class = "skipped"
				cr.Note += " · nothing proven (skipped)"
			}
			if r.Late > 0 && r.Status != "failed" {
				cr.Note += fmt.Sprintf(" · ended %s late", took(r.Late))
			}
			cr.NoteX, cr.NoteAnchor = cr.ActX+cr.ActW+6, "start"
			if cr.NoteX > c.ChartX+c.ChartW-260 {
				cr.NoteX, cr.NoteAnchor = cr.ActX-6, "end"
			}
		} else {
			cr.Note, cr.NoteX, cr.NoteAnchor = "not run", cr.PlanX, "start"
		}
		c.Rows = append(c.Rows, cr)
	}
	c.LegendY = chartTop + len(rows)*rowHeight + 18
	c.FooterY = c.LegendY + 18
	c.Height = c.FooterY + 10
	return c
}
