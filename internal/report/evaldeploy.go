package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/granter/runbook/internal/journal"
)

func evalDeployed(a acc, r *Run) {
	deploy := r.entries(inPhase(journal.Phase1, journal.Phase2, journal.Phase3))
	for _, e := range deploy {
		if e.Status == journal.StatusFailed {
			a.add(NotMet, entrySource(e), "%s", entryText(e))
		}
	}
	phase3 := r.entries(inPhase(journal.Phase3))
	if len(phase3) == 0 {
		a.finish("phase3 journal entries (deployment, image.after, rollout=complete per service)")
		return
	}
	done := false
	for _, e := range phase3 {
		done = done || e.Status == journal.StatusOK || e.Status == journal.StatusFailed
	}
	if !done {
		a.add(NotEvaluated, "journal phase3", "Phase 3 recorded only %s steps: nothing was deployed", phase3[0].Status)
		a.finish("")
		return
	}
	for _, svc := range r.Services {
		var set, rolled *journal.Entry
		for i := range phase3 {
			e := &phase3[i]
			if e.Data[journal.KeyDeployment] != svc || e.Status != journal.StatusOK {
				continue
			}
			if e.Data[journal.KeyImageAfter] != "" {
				set = e
			}
			if e.Data[journal.KeyRollout] == "complete" {
				rolled = e
			}
		}
		switch {
		case set == nil:
			a.add(NotMet, "journal phase3", "%s: no image was set (no ok entry with deployment=%s and image.after)", svc, svc)
		case rolled == nil:
			a.add(NotMet, entrySource(*set), "%s: image %s set, but its rollout never completed (no ok entry with rollout=complete)", svc, set.Data[journal.KeyImageAfter])
		default:
			ready := ""
			if rd := rolled.Data["ready"]; rd != "" {
				ready = ", " + rd + " ready"
			}
			before := set.Data[journal.KeyImageBefore]
			if before == "" {
				before = "?"
			}
			src := entrySource(*set)
			if r := entrySource(*rolled); r != src {
				src += ", " + r
			}
			a.add(Met, src, "%s: %s → %s, rollout complete%s", svc, before, set.Data[journal.KeyImageAfter], ready)
		}
	}
	a.finish("")
}

func evalMigrations(a acc, r *Run) {
	for _, e := range r.entries(inPhase(journal.Phase2)) {
		if e.Status == journal.StatusFailed {
			a.add(NotMet, entrySource(e), "%s", entryText(e))
		}
	}
	withList := r.entries(func(e journal.Entry) bool {
		return e.Phase == journal.Phase2 && hasData(journal.KeyMigrationsApplied)(e)
	})
	if len(withList) == 0 {
		a.finish("a phase2 journal entry with migrations.applied (Step 2.2: migration status)")
		return
	}
	e := withList[len(withList)-1]
	expected, from := splitList(e.Data[journal.KeyMigrationsExpected]), "journal"
	if len(expected) == 0 {
		expected, from = ExpectedMigrations, "the runbook (the journal gave no migrations.expected)"
	}
	applied := splitList(e.Data[journal.KeyMigrationsApplied])
	var missing []string
	for _, m := range expected {
		if !slices.Contains(applied, m) {
			missing = append(missing, m)
		}
	}
	switch {
	case e.Status != journal.StatusOK:
		a.add(entryState(e), entrySource(e), "%s", entryText(e))
	case len(missing) > 0:
		a.add(NotMet, entrySource(e), "expected migrations (from %s) not applied: %s; applied: %s", from, strings.Join(missing, ", "), strings.Join(applied, ", "))
	default:
		txt := fmt.Sprintf("all %d expected migrations (from %s) in success state", len(expected), from)
		if n := e.Data[journal.KeyMigrationsNew]; n != "" {
			txt += "; applied by this run: " + n
		}
		a.add(Met, entrySource(e), "%s", txt)
	}
	a.finish("")
}
