package metrics

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// TargetHealth is one scrape target as Prometheus last saw it.
type TargetHealth struct {
	Job        string
	Service    string // the target's service label, when it has one
	Instance   string
	ScrapeURL  string
	Health     string // up, down, unknown (never scraped yet)
	LastError  string
	LastScrape time.Time
	Labels     map[string]string
}

// Up is true after a successful scrape.
func (t TargetHealth) Up() bool { return t.Health == "up" && !t.LastScrape.IsZero() }

func (t TargetHealth) String() string {
	s := fmt.Sprintf("job=%s", t.Job)
	if t.Service != "" && t.Service != t.Job {
		s += " service=" + t.Service
	}
	s += fmt.Sprintf(" url=%s health=%s", t.ScrapeURL, t.Health)
	if t.LastScrape.IsZero() {
		s += " (never scraped)"
	} else {
		s += fmt.Sprintf(" (last scrape %s ago)", time.Since(t.LastScrape).Round(100*time.Millisecond))
	}
	if t.LastError != "" {
		s += fmt.Sprintf(" lastError=%q", t.LastError)
	}
	return s
}

// TargetsError says which scrape targets are not up and which wanted jobs
// Prometheus does not scrape at all.
type TargetsError struct {
	URL     string
	Down    []TargetHealth
	Missing []string // wanted jobs or services with no target
	Seen    []string // the jobs Prometheus does scrape
}

func (e *TargetsError) Error() string {
	var parts []string
	for _, t := range e.Down {
		parts = append(parts, "scrape target down: "+t.String())
	}
	for _, m := range e.Missing {
		parts = append(parts, fmt.Sprintf("no scrape target for %q (monitoring not enabled for it; jobs scraped: %s)", m, strings.Join(e.Seen, ", ")))
	}
	if len(parts) == 0 {
		parts = append(parts, "no scrape targets at all (monitoring not enabled)")
	}
	return fmt.Sprintf("prometheus %s: %s", e.URL, strings.Join(parts, "; "))
}

// TargetHealth lists every active scrape target, sorted by job then URL.
func (c *Client) TargetHealth(ctx context.Context) ([]TargetHealth, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	res, err := c.api.Targets(ctx)
	if err != nil {
		return nil, &QueryError{URL: c.url, Query: "/api/v1/targets", Err: explain(err)}
	}
	out := make([]TargetHealth, 0, len(res.Active))
	for _, a := range res.Active {
		l := labels(model.Metric(a.Labels))
		job := l["job"]
		if job == "" {
			job = a.ScrapePool
		}
		out = append(out, TargetHealth{
			Job: job, Service: l["service"], Instance: l["instance"],
			ScrapeURL: a.ScrapeURL, Health: string(a.Health), LastError: a.LastError,
			LastScrape: a.LastScrape, Labels: l,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Job != out[j].Job {
			return out[i].Job < out[j].Job
		}
		return out[i].ScrapeURL < out[j].ScrapeURL
	})
	return out, nil
}

// Targets checks checklist item 2's "Monitoring enabled": every scrape
// target is up, there is at least one, and each wanted job (or service
// label) has a target. The error is a *TargetsError naming each down target
// with its job, URL and last scrape error.
func (c *Client) Targets(ctx context.Context, want ...string) ([]TargetHealth, error) {
	ts, err := c.TargetHealth(ctx)
	if err != nil {
		return nil, err
	}
	e := &TargetsError{URL: c.url}
	seen := map[string]bool{}
	for _, t := range ts {
		if !t.Up() {
			e.Down = append(e.Down, t)
		}
		seen[t.Job], seen[t.Service] = true, true
		if !slices.Contains(e.Seen, t.Job) {
			e.Seen = append(e.Seen, t.Job)
		}
	}
	for _, w := range want {
		if !seen[w] {
			e.Missing = append(e.Missing, w)
		}
	}
	if len(ts) == 0 || len(e.Down) > 0 || len(e.Missing) > 0 {
		return ts, e
	}
	return ts, nil
}
