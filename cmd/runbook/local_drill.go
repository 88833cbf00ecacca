//go:build !staging && !prod

package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
)

// drillOutcome is the end of `make local-drill`: the path as a short
// timeline from the journal, then what must hold after the rollback, each
// from evidence (the journal, the cluster, the services themselves). It
// returns 0 only when the drill went as the runbook says: the deployment
// failed at its Phase 4 gate (code is not 0, not 7) and the rollback
// succeeded.
func drillOutcome(ctx context.Context, w io.Writer, tgt *target.Target, dir string, code int, total time.Duration) int {
	fmt.Fprintf(w, "\n══ make local-drill: the rollback path ══\n")
	entries, err := journal.Read(dir)
	if err != nil {
		fmt.Fprintf(w, "journal: %v\n", err)
	}
	timeline(w, entries)

	checks := rollback.Prove(ctx, tgt, entries, code, granter.V1)

	ok := true
	fmt.Fprintln(w, "\nWhat the drill proves:")
	for _, c := range checks {
		mark := "✅"
		if !c.OK {
			mark, ok = "❌", false
		}
		fmt.Fprintf(w, "  %s %-62s %s\n", mark, c.What, c.Seen)
	}
	fmt.Fprintf(w, "\nrun folder: %s (journal.jsonl, rollback.json, report.md, report.html)\nmake local-drill took %s\n", dir, total.Round(time.Second))
	if ok {
		fmt.Fprintf(w, "✅ make local-drill: %s failed its Phase 4 gate, the rollback ran, the platform is back on %s and verified (exit 0)\n", tgt.Version, granter.V1)
		return exitcode.OK
	}
	fmt.Fprintf(w, "❌ make local-drill: the drill did not go as the runbook says (make deploy exit %d, %s): see the ❌ lines above\n", code, exitcode.Name(code))
	if code == exitcode.OK {
		return exitcode.Internal
	}
	return code
}

// timeline prints the run's path: one line per deployment phase (its
// first step's time, its steps, the failure) and per rollback step.
func timeline(w io.Writer, entries []journal.Entry) {
	if len(entries) == 0 {
		return
	}
	t0 := entries[0].Time
	if !entries[0].Started.IsZero() {
		t0 = entries[0].Started
	}
	at := func(e journal.Entry) string {
		t := e.Time
		if !e.Started.IsZero() {
			t = e.Started
		}
		d := t.Sub(t0).Round(time.Second)
		return fmt.Sprintf("t+%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
	}
	for i := 0; i < len(entries); {
		e := entries[i]
		if e.Phase == rollback.Phase {
			fmt.Fprintf(w, "  %s  rollback Step %-2s %-8s %s\n", at(e), e.Step, e.Status, e.Action)
			i++
			continue
		}
		// One line for a deployment phase: its steps up to the first failure.
		j, failed := i, -1
		for ; j < len(entries) && entries[j].Phase == e.Phase; j++ {
			if entries[j].Status == journal.StatusFailed && failed < 0 {
				failed = j
			}
		}
		line := fmt.Sprintf("%d entries ok", j-i)
		if failed >= 0 {
			line = fmt.Sprintf("FAILED at Step %s: %s", entries[failed].Step, firstLine(entries[failed].Error))
		}
		fmt.Fprintf(w, "  %s  %-16s %s\n", at(e), or(string(e.Phase), "-"), line)
		i = j
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
