package rollback

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// Proof is one thing a deployment rolled back by AUTO_ROLLBACK must show,
// with what was seen.
type Proof struct {
	OK         bool
	What, Seen string
}

// Prove checks a deployment of a broken release rolled back by itself
// (make deploy AUTO_ROLLBACK=1; make local-drill, make rehearse-drill),
// each from evidence a team has: the run's journal, the cluster through
// the target's kube context, the services through the target's URLs
// (and its CA):
//   - the deployment failed at its Phase 4 gate, and nowhere before;
//   - make deploy's exit code is that failure (code), not 7;
//   - the ROLLBACK PROCEDURE ran, Steps 1-7 done (the team messages may
//     be skipped when the channel is down: the system comes first);
//   - the database was restored from the verified backup and verified
//     equal to it (Step 3's journaled verification);
//   - every deployment's image and every /health is back on previous;
//   - the five smoke flows passed on previous (Step 6).
func Prove(ctx context.Context, tgt *target.Target, entries []journal.Entry, code int, previous string) []Proof {
	var out []Proof
	add := func(ok bool, what, seen string) { out = append(out, Proof{ok, what, seen}) }

	var gate *journal.Entry
	for i, e := range entries {
		if e.Status == journal.StatusFailed && e.Phase != Phase && gate == nil {
			gate = &entries[i]
		}
	}
	what := "make deploy " + tgt.Version + " failed its Phase 4 gate"
	if gate == nil {
		add(false, what, "no failed deployment step in the journal")
	} else {
		add(gate.Phase == journal.Phase4, what, fmt.Sprintf("%s Step %s failed: %s", gate.Phase, gate.Step, firstLine(gate.Error)))
	}
	add(code != exitcode.OK && code != exitcode.Rollback, "make deploy's exit code is the gate's failure, not 7 (the rollback failed)", fmt.Sprintf("exit %d (%s)", code, exitcode.Name(code)))

	steps := map[string]string{}
	var restore, smoke journal.Entry
	for _, e := range entries {
		if e.Phase != Phase {
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
		allOK = allOK && (st == journal.StatusOK || (st == journal.StatusSkipped && (n == 1 || n == 7)))
	}
	add(allOK, "AUTO_ROLLBACK=1 ran the ROLLBACK PROCEDURE, Steps 1-7 done", strings.Join(stepsSeen, ", "))

	add(restore.Status == journal.StatusOK && restore.Data["verified"] != "" && restore.Data["tables"] != "",
		"database restored from the verified backup and equal to it",
		fmt.Sprintf("Step 3 %s: %s tables, %s rows: %s (backup %s)", or(restore.Status, "missing"), or(restore.Data["tables"], "?"), or(restore.Data["rows"], "?"),
			or(restore.Data["verified"], "not verified"), or(restore.Data[journal.KeyBackupFile], "?")))

	cs, csErr := kube.ForTarget(tgt)
	for _, s := range tgt.Services {
		seen := ""
		var err error
		if err = csErr; err == nil {
			var im map[string]string
			im, err = kube.CurrentImages(ctx, cs, tgt.Kube.Namespace, s.Name)
			seen = im[s.Name]
		}
		if err != nil {
			seen = err.Error()
		}
		add(err == nil && Tag(seen) == previous, "deployment/"+s.Name+" image back on "+previous, seen)
		_, h, err := httpcheck.New(s.Name, s.URL, tgt.HTTP, tgt.Redact).CheckHealth(ctx, s.Health, previous)
		seen = h.Version
		if err != nil {
			seen = err.Error()
		}
		add(err == nil && h.Version == previous, s.Name+" answers "+previous+" on /health", seen)
	}

	var flows []string
	for k, v := range smoke.Data {
		if strings.HasPrefix(k, "smoke.") {
			flows = append(flows, strings.TrimPrefix(k, "smoke.")+" "+v)
		}
	}
	sort.Strings(flows)
	add(smoke.Status == journal.StatusOK && len(flows) == 5, "smoke: the five flows passed on "+previous, or(strings.Join(flows, ", "), "no Step 6 entry"))
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
