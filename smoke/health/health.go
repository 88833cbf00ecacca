package health

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
)

// Timeouts.
const (
	// Timeout bounds the whole flow.
	Timeout = time.Minute
	// DBTimeout bounds the database cross-check: connect and SELECT 1.
	DBTimeout = 5 * time.Second
)

// Want is the health answer of the runbook (Step 3.3).
const Want = httpcheck.HealthyBody

type probe struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// New returns the health flow for the target: /health, /health/live and
// /health/ready on every service, web-frontend's page, where the target
// gives database access a direct check that the database answers, and
// web-frontend in a real browser (frontendStep), then a search the API
// refuses, shown by web-frontend as a page with the reason
// (refusedSearchStep).
// The steps are independent: one broken service does not hide another.
func New(tgt *target.Target) flow.Flow {
	f := flow.Flow{Name: "health", Timeout: Timeout, Redact: tgt.Redact, NotApplicable: tgt.NotApplicableIn(phase4.Health.Test)}
	all := &allProbes{tgt: tgt}
	for _, svc := range tgt.Services {
		f.Steps = append(f.Steps, flow.Step{Name: svc.Name, Independent: true,
			Run: func(ctx context.Context, rec *flow.Recorder) error { return all.wait(ctx, rec, svc.Name) }})
	}
	f.Steps = append(f.Steps, flow.Step{Name: "version", Independent: true,
		Run: func(ctx context.Context, rec *flow.Recorder) error { return version(rec, tgt) }})
	f.Steps = append(f.Steps, flow.Step{Name: "database", Independent: true,
		Run: func(ctx context.Context, rec *flow.Recorder) error { return database(ctx, rec, tgt) }})
	f.Steps = append(f.Steps, frontendStep(tgt), refusedSearchStep(tgt))
	return f
}

// allProbes sends every probe of every service at once, when the first
// step asks, so that hung services cost one request timeout in all, not
// one per probe; each step then reports its own service.
type allProbes struct {
	tgt  *target.Target
	once sync.Once
	done map[string]chan outcome
}

// outcome is one service's probes: what was seen, every failure.
type outcome struct {
	lines []string
	err   error
}

func (a *allProbes) wait(ctx context.Context, rec *flow.Recorder, service string) error {
	a.once.Do(func() {
		a.done = map[string]chan outcome{}
		for _, svc := range a.tgt.Services {
			ch := make(chan outcome, 1)
			a.done[svc.Name] = ch
			go func() { ch <- probes(ctx, a.tgt, svc) }()
		}
	})
	select {
	case o := <-a.done[service]:
		for _, l := range o.lines {
			rec.Logf("%s", l)
		}
		return o.err
	case <-ctx.Done():
		return fmt.Errorf("%s: probes not answered: %w", service, context.Cause(ctx))
	}
}

// probes checks one service's three probes (and web-frontend's page), all
// at once, and reports every failure, in probe order.
func probes(ctx context.Context, tgt *target.Target, svc target.Service) outcome {
	c, err := httpcheck.ForService(tgt, svc.Name)
	if err != nil {
		return outcome{err: err}
	}
	defer c.CloseIdleConnections()
	checks := []func() (string, error){
		func() (string, error) {
			var h httpcheck.Health
			resp, err := c.GetJSON(ctx, svc.Health, http.StatusOK, &h)
			switch {
			case err != nil:
				return "", err
			case h.Problem(tgt.Version) != "":
				return "", resp.Errorf("%s: want %s%s", h.Problem(tgt.Version), Want, atVersion(tgt.Version))
			}
			return fmt.Sprintf("did GET %s; saw %d healthy, database up, api up (%s %s) in %s",
				resp.URL, resp.Status, h.Service, h.Version, resp.Duration.Round(time.Millisecond)), nil
		},
		statusProbe(ctx, c, svc.Live, "alive"),
		statusProbe(ctx, c, svc.Ready, "ready"),
	}
	if svc.Name == target.WebFrontend {
		checks = append(checks, func() (string, error) {
			resp, err := c.Get(ctx, "/", http.StatusOK)
			if err != nil {
				return "", err
			}
			if err := wantHTML(resp, "the page is not served"); err != nil {
				return "", err
			}
			return fmt.Sprintf("did GET %s; saw %d, an HTML page of %d bytes", resp.URL, resp.Status, len(resp.Body)), nil
		})
	}
	lines := make([]string, len(checks))
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, check := range checks {
		wg.Go(func() { lines[i], errs[i] = check() })
	}
	wg.Wait()
	var o outcome
	for _, l := range lines {
		if l != "" {
			o.lines = append(o.lines, l)
		}
	}
	o.err = errors.Join(errs...)
	return o
}

// wantHTML fails unless resp is an HTML page; why says what that means.
func wantHTML(resp *httpcheck.Response, why string) error {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/html" {
		return resp.Errorf("Content-Type %q, want text/html: %s", resp.Header.Get("Content-Type"), why)
	}
	return nil
}

// atVersion is what the health answers must say besides the body.
func atVersion(v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf(` with "version":%q`, v)
}

// version says which version every /health answer was held to: the one
// being deployed (RUNBOOK_VERSION, --version). Without one, the service
// steps cannot tell the new release from the old: the step is skipped,
// loudly, never passed.
func version(rec *flow.Recorder, tgt *target.Target) error {
	if tgt.Version == "" {
		return flow.Skip("no version being deployed was given (RUNBOOK_VERSION or --version): the /health answers were not held to one, so this run cannot show the rollout reached every service")
	}
	rec.Logf("every /health answer must say \"version\":%q, the version being deployed", tgt.Version)
	return nil
}

// statusProbe checks a probe that answers {"status":want}.
func statusProbe(ctx context.Context, c *httpcheck.Client, path, want string) func() (string, error) {
	return func() (string, error) {
		var got probe
		resp, err := c.GetJSON(ctx, path, http.StatusOK, &got)
		switch {
		case err != nil:
			return "", err
		case got.Status != want:
			return "", resp.Errorf("status %q, want %q", got.Status, want)
		}
		return fmt.Sprintf("did GET %s; saw %d %s", resp.URL, resp.Status, got.Status), nil
	}
}

// database connects to the target's database and runs SELECT 1, so that
// "database: up" above is not taken on the services' word alone.
func database(ctx context.Context, rec *flow.Recorder, tgt *target.Target) error {
	if tgt.Database == nil || tgt.Database.URL.IsZero() {
		return flow.Skip("the target gives no database access (database.urlEnv): the services' own database checks are all there is")
	}
	ctx, cancel := context.WithTimeout(ctx, DBTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(tgt.Database.URL.Reveal())
	if err != nil {
		// pgx quotes the URL in some parse errors: the flow's Redact removes it.
		return fmt.Errorf("database URL from %s does not parse: %w", tgt.Database.URL.Name(), err)
	}
	cfg.ConnectTimeout = DBTimeout
	where := fmt.Sprintf("database %s at %s:%d (from %s)", tgt.Database.Name, cfg.Host, cfg.Port, tgt.Database.URL.Name())
	start := time.Now()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%s: cannot connect within %s: %w", where, DBTimeout, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var one int
	var name string
	if err := conn.QueryRow(ctx, "SELECT 1, current_database()").Scan(&one, &name); err != nil {
		return fmt.Errorf("%s: SELECT 1 failed: %w", where, err)
	}
	if tgt.Database.Name != "" && name != tgt.Database.Name {
		return fmt.Errorf("%s: connected to database %q, want %q (database.name)", where, name, tgt.Database.Name)
	}
	rec.Record("SELECT 1 on "+where, fmt.Sprintf("1, in %s", time.Since(start).Round(time.Millisecond)))
	return nil
}
