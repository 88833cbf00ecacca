//go:build !staging && !prod

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
)

// drillOutcome is the end of `make local-drill`: the path as a short
// timeline from the journal, then what must hold after the rollback, each
// from evidence (the journal, the cluster, the services themselves). It
// returns 0 only when the drill went as the runbook says: the deployment
// failed at its Phase 4 gate (code is not 0, not 7) and the rollback
// succeeded.
func drillOutcome(ctx context.Context, w io.Writer, env *localenv.Env, tgt *target.Target, dir string, code int, total time.Duration) int {
	fmt.Fprintf(w, "\n══ make local-drill: the rollback path ══\n")
	entries, err := journal.Read(dir)
	if err != nil {
		fmt.Fprintf(w, "journal: %v\n", err)
	}
	timeline(w, entries)

	var checks []check
	add := func(ok bool, what, seen string) { checks = append(checks, check{ok, what, seen}) }

	// The deployment stopped at Phase 4, and nowhere before.
	var gate *journal.Entry
	for i, e := range entries {
		if e.Status == journal.StatusFailed && e.Phase != rollback.Phase && gate == nil {
			gate = &entries[i]
		}
	}
	switch {
	case gate == nil:
		add(false, "make deploy "+tgt.Version+" failed its Phase 4 gate", "no failed deployment step in the journal")
	default:
		add(gate.Phase == journal.Phase4, "make deploy "+tgt.Version+" failed its Phase 4 gate", fmt.Sprintf("%s Step %s failed: %s", gate.Phase, gate.Step, firstLine(gate.Error)))
	}
	add(code != exitcode.OK && code != exitcode.Rollback, "make deploy's exit code is the gate's failure, not 7 (the rollback failed)", fmt.Sprintf("exit %d (%s)", code, exitcode.Name(code)))

	// The rollback ran, every step done.
	steps := map[string]string{}
	var restore, smoke journal.Entry
	for _, e := range entries {
		if e.Phase != rollback.Phase {
			continue
		}
		if steps[e.Step] != journal.StatusFailed {
			steps[e.Step] = e.Status
		}
		switch e.Step {
		case "3":
			restore = e
		case "6":
			smoke = e
		}
	}
	var stepsSeen []string
	allOK := len(steps) == 7
	for n := 1; n <= 7; n++ {
		st := steps[fmt.Sprint(n)]
		stepsSeen = append(stepsSeen, fmt.Sprintf("%d %s", n, or(st, "missing")))
		// Team messages that cannot be sent are skipped, not failed (the
		// system comes first); every other step must be ok.
		allOK = allOK && (st == journal.StatusOK || (st == journal.StatusSkipped && (n == 1 || n == 7)))
	}
	add(allOK, "AUTO_ROLLBACK=1 ran the ROLLBACK PROCEDURE, Steps 1-7 done", strings.Join(stepsSeen, ", "))

	// The database equals the backup (Step 3's verification).
	add(restore.Status == journal.StatusOK && restore.Data["verified"] != "" && restore.Data["tables"] != "",
		"database restored from the verified backup and equal to it",
		fmt.Sprintf("Step 3 %s: %s tables, %s rows: %s (backup %s)", or(restore.Status, "missing"), or(restore.Data["tables"], "?"), or(restore.Data["rows"], "?"),
			or(restore.Data["verified"], "not verified"), or(restore.Data[journal.KeyBackupFile], "?")))

	// Images and the versions the services answer.
	for _, s := range tgt.Services {
		im, err := kube.CurrentImages(ctx, env.Cluster.Clientset, env.Namespace, s.Name)
		seen := im[s.Name]
		if err != nil {
			seen = err.Error()
		}
		add(err == nil && rollback.Tag(seen) == granter.V1, "deployment/"+s.Name+" image back on "+granter.V1, seen)
		v, err := healthVersion(ctx, s.URL)
		if err != nil {
			v = err.Error()
		}
		add(err == nil && v == granter.V1, s.Name+" answers "+granter.V1+" on /health", v)
	}

	// Smoke passed on v1.9.0 (Step 6).
	var flows []string
	for k, v := range smoke.Data {
		if strings.HasPrefix(k, "smoke.") {
			flows = append(flows, strings.TrimPrefix(k, "smoke.")+" "+v)
		}
	}
	sort.Strings(flows)
	add(smoke.Status == journal.StatusOK && len(flows) == 5, "smoke: the five flows passed on "+granter.V1, or(strings.Join(flows, ", "), "no Step 6 entry"))

	ok := true
	fmt.Fprintln(w, "\nWhat the drill proves:")
	for _, c := range checks {
		mark := "✅"
		if !c.ok {
			mark, ok = "❌", false
		}
		fmt.Fprintf(w, "  %s %-62s %s\n", mark, c.what, c.seen)
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

type check struct {
	ok         bool
	what, seen string
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

// healthVersion is the version a service's /health answers.
func healthVersion(ctx context.Context, base string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/health", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("GET %s/health: HTTP %d, body not JSON: %v", base, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return body.Version, fmt.Errorf("GET %s/health: HTTP %d (version %q)", base, resp.StatusCode, body.Version)
	}
	return body.Version, nil
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
