package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/traffic"
	"github.com/granter/runbook/monitor"
	"github.com/granter/runbook/rollback"
	"github.com/granter/runbook/rollback/runfolder"
)

func init() {
	register(Command{Name: "monitor", Order: 10, Run: monitorMain,
		Summary: "MONITORING PHASE: the 4-hour watch of the key metrics, every round journaled; AUTO_ROLLBACK (make monitor)"})
}

// monitorMain is `runbook monitor`: the MONITORING PHASE, every round
// printed and journaled into the run folder. Exit 0: every round passed;
// 6: a round failed (the rollback rule's verdict and, with
// --auto-rollback, the rollback follow); 7: the automatic rollback failed;
// 8: refused (AUTO_ROLLBACK without what a rollback needs); 2: bad settings.
func monitorMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.add(fs, false)
	fs.Lookup("run-dir").Usage = "run folder to journal into (default $RUNBOOK_RUN_DIR, else the newest deployment run runs/<timestamp>-<env>, else the newest with a journal, else a new one)"
	fs.Lookup("dry-run").Usage = "print the schedule and the checks; watch nothing"
	fs.Lookup("confirm").Usage = "the confirmation word the automatic rollback needs outside local (CONFIRM)"
	schedule := fs.String("schedule", rbEnv("SCHEDULE", monitor.RunbookSchedule), "rounds: \"<interval> x<rounds>, ...\" (env SCHEDULE)")
	compress := fs.Float64("compress", rbEnvFloat("COMPRESS", 1), "divide every interval by this (a drill: 240 makes the 4 hours one minute; env COMPRESS)")
	auto := fs.Bool("auto-rollback", rbTruthy(os.Getenv("AUTO_ROLLBACK")), "run the rollback when the runbook's rule fires (env AUTO_ROLLBACK=1); else print its command")
	rps := fs.Int("traffic", rbEnvInt("TRAFFIC", 0), "send this many read-only requests a second during the watch (the local platform has no users; refused on a read-only target; env TRAFFIC)")
	noSmoke := fs.Bool("no-smoke", false, "leave out the light smoke round (logins, search)")
	cpuCores := fs.Float64("cpu-cores", 0, "CPU cores a service may use when its Deployment sets no CPU limit (default 1)")
	keepGoing := fs.Bool("keep-going", false, "watch on after a failed round")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	tgt, code := loadTarget(ctx, stderr)
	if tgt == nil {
		return code
	}
	sch, err := monitor.ParseSchedule(*schedule)
	if err == nil && *compress != 1 {
		sch, err = sch.Compress(*compress)
	}
	if err == nil {
		err = monitor.ScheduleAllowed(tgt, sch)
	}
	if err != nil {
		fmt.Fprintf(stderr, "runbook monitor: %v\n", err)
		return exitcode.Config
	}

	if f.dryRun {
		fmt.Fprintf(stdout, "monitor plan for %s: %s, %d rounds over %s\n", tgt.Env, sch, len(sch.Slots()), sch.Total())
		for _, s := range sch.Slots() {
			fmt.Fprintf(stdout, "  round %2d/%d at t+%-8s looks back %s\n", s.N, s.Of, s.At, s.Window)
		}
		fmt.Fprintf(stdout, "each round: error rate < %.2f%%, API p95 < %s, database query time < %s, active connections < %d, memory stable, CPU < %.0f%%, no critical alert, logins and search working\n",
			tgt.Thresholds.ErrorRate*100, tgt.Thresholds.APIP95, tgt.Thresholds.DBQuery, tgt.Thresholds.ActiveConnections, tgt.Thresholds.CPU*100)
		return exitcode.OK
	}
	if tgt.Prometheus == nil || tgt.Prometheus.URL == "" {
		fmt.Fprintf(stderr, "runbook monitor: the target has no Prometheus (prometheus.url in %s; locally, start the platform with `make local`): the key metrics cannot be read\n", tgt.File)
		return exitcode.Config
	}
	dir, named := f.runDir, f.runDir != ""
	if dir == "" {
		var why string
		if dir, why = rbNewestRun(rbRunsRoot(), tgt.Env); dir != "" {
			fmt.Fprintf(stdout, "runbook monitor: no RUN given: %s\n", why)
		}
	}
	if dir == "" {
		dir = defaultRunDir(tgt.Env)
	}
	if *auto {
		// Find out now, not at the breach, whether a rollback could run.
		if err := rollback.Confirmed(tgt, f.confirm); err != nil {
			fmt.Fprintf(stderr, "runbook monitor: AUTO_ROLLBACK=1: %v\n", err)
			return exitcode.Refused
		}
		if _, err := rollback.PlanFor(ctx, tgt, dir); err != nil {
			fmt.Fprintf(stderr, "runbook monitor: AUTO_ROLLBACK=1 but no rollback is possible from %s: %v\n", dir, err)
			return rbCode(err)
		}
	}
	j, err := journal.Open(dir, filepath.Base(dir), tgt.Env, tgt.Redact)
	if err != nil {
		fmt.Fprintf(stderr, "runbook monitor: %v\n", err)
		return exitcode.Internal
	}
	defer j.Close()
	fmt.Fprintf(stdout, "runbook monitor: journal %s\n", filepath.Join(dir, journal.FileName))

	stopTraffic := func() {}
	if *rps > 0 {
		g, err := traffic.New(tgt)
		var tr *traffic.Run
		if err == nil {
			tr, err = g.Start(ctx, *rps)
		}
		if err != nil {
			fmt.Fprintf(stderr, "runbook monitor: %v\n", err)
			return exitcode.Config
		}
		var once sync.Once
		stopTraffic = func() {
			once.Do(func() {
				fmt.Fprintf(stdout, "runbook monitor: traffic: %s\n", tr.Stop())
			})
		}
		defer stopTraffic()
		// Round 1 looks back one interval: on a platform whose only users
		// are this traffic, it must have run that long first, or round 1
		// sees no requests (no data, a failed round).
		if warm := max(sch.Slots()[0].Window, monitor.MinWindow); warm > 0 {
			fmt.Fprintf(stdout, "runbook monitor: traffic: %d requests a second for %s before round 1 looks back over them\n", *rps, warm)
			t := time.NewTimer(warm)
			select {
			case <-ctx.Done():
				t.Stop()
				return exitcode.Internal
			case <-t.C:
			}
		}
	}
	code = monitorWatch(ctx, tgt, dir, j, sch, stopTraffic, *auto, f.confirm, *noSmoke, *cpuCores, *keepGoing, stdout, stderr)
	rbRecordExit(dir, "monitor", named, code, stderr)
	return code
}

func monitorWatch(ctx context.Context, tgt *target.Target, dir string, j *journal.Journal, sch monitor.Schedule, stopTraffic func(),
	auto bool, confirm string, noSmoke bool, cpuCores float64, keepGoing bool, stdout, stderr io.Writer) int {
	res, err := monitor.Watch(ctx, tgt, monitor.Options{Schedule: sch, Out: stdout, Journal: j, NoSmoke: noSmoke,
		CPULimits: rbCPULimits(ctx, tgt, stderr), CPUCores: cpuCores, KeepGoing: keepGoing})
	stopTraffic() // generated load has no place beside the rollback's smoke flows
	if err == nil {
		fmt.Fprintf(stdout, "runbook monitor: watched %s, %d rounds: every check passed\n", res.Ended.Sub(res.Started).Round(time.Second), len(res.Rounds))
		return exitcode.OK
	}
	fmt.Fprintf(stderr, "runbook monitor: %s\n", tgt.Redact(err.Error()))
	if res.Failed == nil {
		return rbCode(err)
	}
	ran, rerr := rollback.OnTrigger(ctx, tgt, res.Decision, auto, rollback.Options{RunDir: dir, Journal: j, Confirm: confirm, Out: stdout})
	if !res.Decision.Rollback {
		fmt.Fprintf(stdout, "runbook monitor: %s: look at the dashboards and decide with the tech lead (the runbook rolls back only on critical issues)\n", res.Decision.Reason)
	}
	if ran && rerr != nil {
		fmt.Fprintf(stderr, "runbook monitor: the automatic rollback failed: %s\n", tgt.Redact(rerr.Error()))
		return exitcode.Rollback
	}
	return exitcode.SLO
}

// rbNewestRun is the run folder the watch journals into when none is
// named, and why: the newest deployment run of env (the rollback the watch
// prints or runs undoes that deployment, never a later preflight folder),
// else the newest folder with a journal, else "".
func rbNewestRun(root, env string) (dir, why string) {
	if c, err := runfolder.Newest(root, env); err == nil {
		return c.Dir, c.Reason()
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "*-"+env))
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], journal.FileName)); err == nil {
			return dirs[i], "run folder " + dirs[i] + ": the newest with a journal (no deployment run of " + env + " found)"
		}
	}
	return "", ""
}

// rbCPULimits reads each Deployment's CPU limit (cores), so "CPU < 70%" is
// of what a pod may use. Nothing readable: none (one core is assumed).
func rbCPULimits(ctx context.Context, tgt *target.Target, stderr io.Writer) map[string]float64 {
	if tgt.Kube == nil {
		return nil
	}
	cs, err := kube.NewClientset(tgt.Kube.Kubeconfig, tgt.Kube.Context)
	if err != nil {
		fmt.Fprintf(stderr, "runbook monitor: CPU limits not read (%v): CPU is judged against one core\n", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out := map[string]float64{}
	for _, s := range tgt.Services {
		d, err := cs.AppsV1().Deployments(tgt.Kube.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			fmt.Fprintf(stderr, "runbook monitor: CPU limit of %s not read (%v): judged against one core\n", s.Name, err)
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if q, ok := c.Resources.Limits["cpu"]; c.Name == s.Name && ok {
				out[s.Name] = q.AsApproximateFloat64()
			}
		}
	}
	return out
}

func rbEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func rbEnvFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func rbEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
