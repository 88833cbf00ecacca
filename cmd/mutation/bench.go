package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/platform"
	"github.com/granter/runbook/fixtures/prom"
	"github.com/granter/runbook/internal/metrics"
	"github.com/granter/runbook/internal/mutation"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/wait"
	"github.com/granter/runbook/postdeploy"
)

// postdeployChecks are the Phase 4 checks run against every mutant besides
// the smoke gate: the ones that ask the services over HTTP and Prometheus
// (one per bench, scraping the mutant's processes every second). Step 4.2
// (the logs and SQL errors, read through the cluster) needs the control
// plane around each mutant; it is not run (MUTATION.md says so).
var postdeployChecks = []phase4.Check{phase4.HealthChecks, phase4.CriticalEndpoints, phase4.ErrorRate, phase4.NoCriticalAlerts}

// scrapeWait bounds the wait for Prometheus to scrape a mutant's services.
const scrapeWait = 15 * time.Second

// bench is one worker's platform: PostgreSQL (one container for all its
// mutants, reset to the same snapshot after each), the listing site, the
// AI provider and Prometheus, from the unchanged tree; the three services
// are the mutant's, started as processes on the platform's ports.
type bench struct {
	p    *platform.Platform
	prom *prom.Server
	tgt  *target.Target
	le   target.LocalEndpoints
}

func openBench(ctx context.Context, root string) (_ *bench, err error) {
	sctx, cancel := context.WithTimeout(ctx, platform.StartTimeout)
	defer cancel()
	p, err := platform.Start(sctx, platform.WithVersion(version))
	if err != nil {
		return nil, err
	}
	b := &bench{p: p}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Close())
		}
	}()
	// The mutant's processes take the services' ports.
	for _, s := range granter.Services {
		if err := p.Stop(s); err != nil {
			return nil, err
		}
	}
	if b.tgt, err = target.Load(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	b.tgt.Version = version
	e := p.Endpoints
	var scraped []prom.Target
	for _, s := range granter.Services {
		scraped = append(scraped, prom.Target{Job: s, Service: s, URL: e.URL(s) + "/metrics"})
	}
	if b.prom, err = prom.Start(ctx, prom.Config{Targets: scraped, Thresholds: metrics.ThresholdsOf(b.tgt.Thresholds)}); err != nil {
		return nil, err
	}
	b.le = target.LocalEndpoints{
		Services:   map[string]string{target.BackendCore: e.BackendURL, target.DataService: e.DataURL, target.WebFrontend: e.FrontendURL},
		ListingURL: e.ListingURL, DatabaseURL: e.DatabaseURL, AIProviderURL: e.AIProviderURL, Prometheus: b.prom.URL(),
	}
	if db := p.DB(); db != nil && db.Container != nil {
		b.le.Container = db.Container.GetContainerID()
	}
	b.tgt.Attach(b.le)
	return b, nil
}

func (b *bench) close() error {
	var err error
	if b.prom != nil {
		err = b.prom.Stop()
	}
	return errors.Join(err, b.p.Close())
}

// judge starts the services built in bin, runs the gates against them,
// stops them and resets the database.
func (b *bench) judge(ctx context.Context, r *runner, dir, bin string) (class mutation.Class, why string) {
	endpoints := filepath.Join(dir, "endpoints.json") // holds the database password: the work folder is the owner's only
	data, err := json.Marshal(b.le)
	if err == nil {
		err = os.WriteFile(endpoints, data, 0o600)
	}
	if err != nil {
		return mutation.Errored, err.Error()
	}
	jwt, aiKey := b.p.Secrets()
	// A killed mutant's 5xx keep the error-rate alert firing for its rule's
	// window: the next one must not be judged by them.
	if err := b.alertsResolved(ctx); err != nil {
		return mutation.Errored, err.Error()
	}
	// Phase 3's end, for Step 4.5: what the mutant's processes serve.
	since := time.Now()
	var procs []*service
	defer func() {
		var problems []error
		for _, s := range procs {
			if err := s.stop(); err != nil {
				problems = append(problems, err)
			}
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := b.p.Reset(rctx); err != nil {
			problems = append(problems, err)
		}
		if err := errors.Join(problems...); err != nil {
			// The next mutant would meet this one's leftovers.
			class, why = mutation.Errored, fmt.Sprintf("after the verdict (%s: %s): %v", class, why, err)
		}
	}()
	for _, name := range granter.Services {
		s, err := startService(ctx, bin, dir, name, b.p.Endpoints.URL(name), []string{
			"DATABASE_URL=" + b.p.Endpoints.AppDatabaseURL, "JWT_SECRET=" + jwt,
			"AI_PROVIDER_URL=" + b.p.Endpoints.AIProviderURL, "AI_PROVIDER_KEY=" + aiKey,
		})
		if s != nil {
			procs = append(procs, s)
		}
		if err != nil {
			return mutation.Errored, err.Error()
		}
	}
	for _, s := range procs {
		if err := s.listening(ctx, 30*time.Second); err != nil {
			return mutation.NoStart, err.Error()
		}
	}
	// Phase 3 ends with the new pods scraped; one that cannot be is for
	// Step 4.5 to judge (it finds no data), so the gates run anyway after
	// scrapeWait (a second's scrapes, and Prometheus's first target update
	// about 5 s after it started).
	var unscraped []error
	sctx, cancel := context.WithTimeout(ctx, scrapeWait)
	for _, s := range procs {
		if err := b.prom.WaitScraped(sctx, s.name); err != nil {
			unscraped = append(unscraped, err)
		}
	}
	cancel()
	class, why = r.gatesAgainst(ctx, dir, endpoints, b.tgt, since)
	if err := errors.Join(unscraped...); err != nil {
		why += "; before the gates, Prometheus did not scrape every service: " + err.Error()
	}
	return class, why
}

// alertsResolved waits until no critical alert fires (at most twice the
// alert rules' window).
func (b *bench) alertsResolved(ctx context.Context) error {
	return wait.Poll(ctx, "the previous mutant's critical alerts to resolve", time.Second, 2*prom.DefaultRuleWindow, func(ctx context.Context) (bool, string, error) {
		firing, err := b.prom.Metrics().FiringAlerts(ctx, metrics.SeverityCritical)
		if err != nil {
			return false, "", err
		}
		return len(firing) == 0, fmt.Sprintf("%d firing: %v", len(firing), firing), nil
	})
}

// service is one mutant service process.
type service struct {
	name, addr, log string
	cmd             *exec.Cmd
	exited          chan error
}

func startService(ctx context.Context, bin, dir, name, base string, env []string) (*service, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	s := &service{name: name, addr: u.Host, log: filepath.Join(dir, name+".log"), exited: make(chan error, 1)}
	out, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.CommandContext(ctx, bin, "serve", "--service", name, "--version", version, "--addr", s.addr)
	s.cmd.Env = append(testEnv(), env...)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = childAttr()
	s.cmd.Cancel = func() error { return s.cmd.Process.Signal(syscall.SIGTERM) }
	s.cmd.WaitDelay = 20 * time.Second
	if err := s.cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		s.exited <- s.cmd.Wait()
		out.Close()
	}()
	return s, nil
}

// listening waits until the process accepts connections on its port (its
// readiness is for the gates to judge), or exits.
func (s *service) listening(ctx context.Context, timeout time.Duration) error {
	return wait.Poll(ctx, s.name+" "+s.addr+" to listen", 100*time.Millisecond, timeout, func(ctx context.Context) (bool, string, error) {
		select {
		case err := <-s.exited:
			s.exited <- err
			return false, "", fmt.Errorf("%s exited before listening (%v): %s", s.name, err, tailFile(s.log, 2))
		default:
		}
		c, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return false, err.Error(), nil
		}
		c.Close()
		return true, "", nil
	})
}

// stop asks the process to end (SIGTERM: it finishes its requests) and
// waits; WaitDelay kills it 20 s later.
func (s *service) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("%s did not stop within 30 s of SIGTERM: killed", s.name)
	}
}

// postdeployAgainst runs postdeployChecks in this process.
func postdeployAgainst(ctx context.Context, tgt *target.Target, since time.Time) error {
	ch := postdeploy.NewChecker(tgt, since)
	for _, pc := range postdeployChecks {
		c, ok := postdeploy.Lookup(pc.Test)
		if !ok {
			return fmt.Errorf("postdeploy has no check %s", pc.Test)
		}
		if _, err := ch.Run(ctx, c, nil); err != nil {
			return fmt.Errorf("postdeploy Step %s %s: %w", pc.Step, pc.Title, err)
		}
	}
	return nil
}

// gatesAgainst runs `runbook smoke` (the gate, built once from the
// unchanged tree) against the services, then postdeployChecks; the first
// that fails kills the mutant.
func (r *runner) gatesAgainst(ctx context.Context, dir, endpoints string, tgt *target.Target, since time.Time) (mutation.Class, string) {
	ctx, cancel := context.WithTimeout(ctx, r.c.timeout)
	defer cancel()
	logPath := filepath.Join(dir, "smoke.log")
	out, err := os.Create(logPath)
	if err != nil {
		return mutation.Errored, err.Error()
	}
	cmd := exec.CommandContext(ctx, r.gates, "smoke", "--version="+version, "--run-dir="+filepath.Join(dir, "run"))
	cmd.Dir = r.c.root
	cmd.Env = append(testEnv(), "RUNBOOK_LOCAL_TARGET="+endpoints, "RUNBOOK_VERSION="+version)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	err = cmd.Run()
	out.Close()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() == context.DeadlineExceeded:
		return mutation.Killed, fmt.Sprintf("smoke: timeout after %s (a hang)", r.c.timeout)
	case ctx.Err() != nil:
		return mutation.Errored, "interrupted"
	case errors.As(err, &ee) && ee.ExitCode() == 2:
		return mutation.Errored, fmt.Sprintf("smoke refused its configuration (exit 2): %s", tailFile(logPath, 3))
	case errors.As(err, &ee):
		return mutation.Killed, fmt.Sprintf("smoke exit %d: %s", ee.ExitCode(), failure(logPath))
	default:
		return mutation.Errored, fmt.Sprintf("smoke: %v", err)
	}
	if err := postdeployAgainst(ctx, tgt, since); err != nil {
		switch {
		case ctx.Err() == context.DeadlineExceeded:
			return mutation.Killed, fmt.Sprintf("postdeploy: timeout after %s (a hang)", r.c.timeout)
		case ctx.Err() != nil:
			return mutation.Errored, "interrupted"
		}
		return mutation.Killed, tgt.Redact(err.Error())
	}
	return mutation.Survived, "smoke and postdeploy 4.3, 4.4, 4.5 and the alerts passed"
}
