package scraper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/wait"
)

// Defaults.
const (
	// MinPages is what "multi-page" means here: the runbook's listing has at
	// least 5 pages.
	MinPages = 5
	// PollInterval is how often the job is read while it runs.
	PollInterval = 250 * time.Millisecond
)

// Job is the body of GET /scraper/jobs/{id}.
type Job struct {
	ID           string   `json:"id"`
	Status       string   `json:"status"`
	PagesFetched int      `json:"pages_fetched"`
	Pages        []string `json:"pages"`
	GrantsFound  int      `json:"grants_found"`
	GrantsStored int      `json:"grants_stored"`
	Error        string   `json:"error"`
	Tag          string   `json:"tag"`
}

func (j Job) String() string {
	s := fmt.Sprintf("status=%s pages_fetched=%d grants_found=%d grants_stored=%d", j.Status, j.PagesFetched, j.GrantsFound, j.GrantsStored)
	if j.Error != "" {
		s += fmt.Sprintf(" error=%q", j.Error)
	}
	return s
}

// Stored is one grant of GET /scraper/grants.
type Stored struct {
	Ref       string `json:"ref"`
	Title     string `json:"title"`
	SourceURL string `json:"source_url"`
	JobID     string `json:"job_id"`
}

type storedPage struct {
	Results []Stored `json:"results"`
	Total   *int     `json:"total"`
}

// run is the state one run of the flow shares between its steps.
type run struct {
	tgt     *target.Target
	api     *httpcheck.Client
	listing *Listing
	tag     string
	posted  bool   // a POST /scraper/jobs was sent
	lost    bool   // ... and its answer never came (timeout): a job may exist
	jobID   string // its answer
	job     Job    // the finished job
}

// New returns the scraper flow for the target: read the configured listing
// (smoke.listingURL) page by page to know what it lists, start a scrape of
// it on data-service under a unique tag, follow the job to completion
// within smoke.jobTimeout, and check that every page was fetched and every
// listed grant stored exactly once. The cleanup deletes the job and what it
// stored (DELETE /scraper/jobs/{id}) and checks nothing is left under the
// tag.
func New(tgt *target.Target) flow.Flow {
	r := &run{tgt: tgt}
	return flow.Flow{
		Name: "scraper",
		// The job's own deadline, plus the listing walk and the checks.
		Timeout: tgt.Smoke.JobTimeout + time.Minute,
		Redact:  tgt.Redact,
		Steps: []flow.Step{
			{Name: "read_listing", Run: r.readListing},
			{Name: "start_job", Run: r.startJob},
			{Name: "job_completes", Run: r.waitJob},
			{Name: "every_page_fetched", Run: r.everyPage},
			{Name: "every_grant_stored_once", Run: r.everyGrant},
		},
		Cleanup: r.cleanup,
	}
}

func (r *run) readListing(ctx context.Context, rec *flow.Recorder) error {
	sm := r.tgt.Smoke
	if sm.ListingURL == "" {
		return fmt.Errorf("no listing to scrape: smoke.listingURL is empty in %s (and the local platform gave none)", r.tgt.File)
	}
	site := httpcheck.New("listing", "", r.tgt.HTTP, r.tgt.Redact)
	defer site.CloseIdleConnections()
	l, err := ReadListing(ctx, site, sm.ListingURL)
	if err != nil {
		return fmt.Errorf("reading the listing the scraper will scrape: %w", err)
	}
	rec.Record("GET "+sm.ListingURL+" and every rel=next page", fmt.Sprintf("%d pages, %d grants", len(l.Pages), len(l.Grants)))
	if dup := duplicates(l.Refs()); len(dup) > 0 {
		return fmt.Errorf("listing %s lists refs more than once (%s): it cannot tell whether grants are stored once", sm.ListingURL, strings.Join(firstN(dup, 5), ", "))
	}
	switch {
	case len(l.Pages) < MinPages:
		return fmt.Errorf("listing %s has %d pages, want at least %d for a multi-page scrape (smoke.listingURL in %s)", sm.ListingURL, len(l.Pages), MinPages, r.tgt.File)
	case sm.ListingPages > 0 && len(l.Pages) != sm.ListingPages:
		return fmt.Errorf("listing %s has %d pages, smoke.listingPages in %s says %d: the listing changed, update the file", sm.ListingURL, len(l.Pages), r.tgt.File, sm.ListingPages)
	case sm.ListingGrants > 0 && len(l.Grants) != sm.ListingGrants:
		return fmt.Errorf("listing %s lists %d grants, smoke.listingGrants in %s says %d: the listing changed, update the file", sm.ListingURL, len(l.Grants), r.tgt.File, sm.ListingGrants)
	case len(l.Grants) == 0:
		return fmt.Errorf("listing %s lists no <article class=\"grant\" data-ref=...>: nothing to check the scraper against", sm.ListingURL)
	}
	r.listing = l
	return nil
}

func (r *run) startJob(ctx context.Context, rec *flow.Recorder) error {
	api, err := httpcheck.ForService(r.tgt, target.DataService)
	if err != nil {
		return err
	}
	r.api = api
	r.tag = flow.Unique(r.tgt.Smoke.UserPrefix + "scrape-")
	var got struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	r.posted = true
	resp, err := api.PostJSON(ctx, "/scraper/jobs", map[string]any{
		"source_url": r.tgt.Smoke.ListingURL,
		"max_pages":  len(r.listing.Pages) + 1, // room for one page too many, never a runaway
		"tag":        r.tag,
	}, http.StatusAccepted, &got)
	var unreachable *httpcheck.UnreachableError
	if errors.As(err, &unreachable) {
		r.posted = false // no connection was made: no job can have been created
	}
	var timedOut *httpcheck.TimeoutError
	r.lost = errors.As(err, &timedOut)
	if err != nil {
		return err
	}
	if got.ID == "" {
		return resp.Errorf("no job id in the answer")
	}
	r.jobID = got.ID
	if got.Status != "queued" {
		// The client shows this to the user who asked for the scrape.
		return resp.Errorf(`job %s created with status %q, want "queued" (docs/API.md)`, got.ID, got.Status)
	}
	rec.Record("POST "+resp.URL+" tag "+r.tag, fmt.Sprintf("%d, job %s %s", resp.Status, got.ID, got.Status))
	return nil
}

// waitJob reads the job every PollInterval until it succeeds or fails,
// within smoke.jobTimeout. Transient answers (timeouts, 429, 502-504) are
// retried; on timeout the error says the last state seen.
func (r *run) waitJob(ctx context.Context, rec *flow.Recorder) error {
	timeout := r.tgt.Smoke.JobTimeout
	start := time.Now()
	path := "/scraper/jobs/" + url.PathEscape(r.jobID)
	name := fmt.Sprintf("%s GET %s%s: job %s to finish (smoke.jobTimeout)", target.DataService, r.api.Base, path, r.jobID)
	var last Job
	seen := false
	return wait.Poll(ctx, name, PollInterval, timeout, func(ctx context.Context) (bool, string, error) {
		var j Job
		resp, err := r.api.GetJSON(ctx, path, http.StatusOK, &j)
		state := "no state read"
		if seen {
			state = last.String()
		}
		switch {
		case err == nil:
			if !seen || j.String() != last.String() {
				rec.Record("GET "+resp.URL, j.String())
			}
			last, seen = j, true
			switch j.Status {
			case "succeeded":
				r.job = j
				rec.Logf("job %s succeeded in %s", r.jobID, time.Since(start).Round(time.Millisecond))
				return true, "", nil
			case "failed":
				return false, "", resp.Errorf("job %s failed: %q (%s)", r.jobID, j.Error, j)
			case "queued", "running":
				return false, j.String(), nil
			default:
				return false, "", resp.Errorf("job status %q, want queued, running, succeeded or failed", j.Status)
			}
		case transient(err) && ctx.Err() == nil:
			rec.Logf("transient, retrying: %v", err)
			return false, state + "; last error: " + err.Error(), nil
		case ctx.Err() != nil:
			// The job's deadline, while a request was under way: the
			// timeout report keeps the state seen before.
			return false, state, nil
		default:
			return false, "", err
		}
	})
}

func (r *run) everyPage(_ context.Context, rec *flow.Recorder) error {
	want, got := r.listing.Pages, r.job.Pages
	missing, extra := diff(normalise(want), normalise(got))
	if len(missing) > 0 || len(extra) > 0 || r.job.PagesFetched != len(want) || len(got) != len(want) {
		return fmt.Errorf("job %s fetched %d pages (pages_fetched %d), the listing has %d; missing: %s; not in the listing: %s",
			r.jobID, len(got), r.job.PagesFetched, len(want), list(missing), list(extra))
	}
	rec.Logf("job %s fetched all %d pages of the listing, each once", r.jobID, len(want))
	return nil
}

func (r *run) everyGrant(ctx context.Context, rec *flow.Recorder) error {
	var got storedPage
	resp, err := r.api.GetJSON(ctx, "/scraper/grants?tag="+url.QueryEscape(r.tag), http.StatusOK, &got)
	if err != nil {
		return err
	}
	if got.Total == nil || got.Results == nil {
		return resp.Errorf(`want {"results":[...],"total":N}; "results" or "total" is missing`)
	}
	rec.Record("GET "+resp.URL, fmt.Sprintf("%d, %d grants (total %d)", resp.Status, len(got.Results), *got.Total))
	want := r.listing.Refs()
	refs := make([]string, len(got.Results))
	for i, g := range got.Results {
		refs[i] = g.Ref
	}
	var problems []string
	if dup := duplicates(refs); len(dup) > 0 {
		problems = append(problems, fmt.Sprintf("%d refs stored more than once (%s)", len(dup), strings.Join(firstN(dup, 5), ", ")))
	}
	missing, extra := diff(want, refs)
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d listed grants not stored (%s)", len(missing), strings.Join(firstN(missing, 5), ", ")))
	}
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%d stored grants not in the listing (%s)", len(extra), strings.Join(firstN(extra, 5), ", ")))
	}
	if *got.Total != len(got.Results) {
		problems = append(problems, fmt.Sprintf("total %d but %d results", *got.Total, len(got.Results)))
	}
	if r.job.GrantsFound != len(want) || r.job.GrantsStored != len(want) {
		problems = append(problems, fmt.Sprintf("the job reports grants_found %d, grants_stored %d", r.job.GrantsFound, r.job.GrantsStored))
	}
	titles := map[string]string{}
	for _, g := range r.listing.Grants {
		titles[g.Ref] = g.Title
	}
	for _, g := range got.Results {
		if t, ok := titles[g.Ref]; ok && t != "" && g.Title != t {
			problems = append(problems, fmt.Sprintf("grant %s stored with title %q, the listing says %q", g.Ref, g.Title, t))
			break
		}
	}
	if len(problems) > 0 {
		return resp.Errorf("want each of the %d listed grants stored exactly once: %s", len(want), strings.Join(problems, "; "))
	}
	rec.Logf("all %d listed grants stored exactly once under tag %s", len(want), r.tag)
	return nil
}

// cleanup deletes the job and what it stored, then checks that nothing is
// left under the tag.
func (r *run) cleanup(ctx context.Context, rec *flow.Recorder) error {
	if !r.posted {
		rec.Logf("no scrape job was started: nothing to delete")
		return nil
	}
	ids := []string{}
	if r.jobID != "" {
		ids = append(ids, r.jobID)
	}
	// Jobs found under the tag: one whose POST answer was lost, or more.
	var got storedPage
	if _, err := r.api.GetJSON(ctx, "/scraper/grants?tag="+url.QueryEscape(r.tag), http.StatusOK, &got); err != nil {
		return fmt.Errorf("cannot list what tag %s stored (delete it by hand): %w", r.tag, err)
	}
	for _, g := range got.Results {
		if g.JobID != "" && !slices.Contains(ids, g.JobID) {
			ids = append(ids, g.JobID)
		}
	}
	var errs []error
	for _, id := range ids {
		resp, err := r.api.Delete(ctx, "/scraper/jobs/"+url.PathEscape(id), http.StatusNoContent)
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot delete scrape job %s (tag %s; delete it by hand): %w", id, r.tag, err))
			continue
		}
		rec.Logf("DELETE %s: %d", resp.URL, resp.Status)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	got = storedPage{}
	resp, err := r.api.GetJSON(ctx, "/scraper/grants?tag="+url.QueryEscape(r.tag), http.StatusOK, &got)
	if err != nil {
		return fmt.Errorf("cannot check that tag %s left nothing behind: %w", r.tag, err)
	}
	if len(got.Results) > 0 {
		return resp.Errorf("%d grants still stored under tag %s after deleting job(s) %s (delete them by hand)", len(got.Results), r.tag, strings.Join(ids, ", "))
	}
	if r.lost && r.jobID == "" && len(ids) == 0 {
		// The POST's answer was lost and nothing is stored yet: a queued job
		// may still store grants under the tag later. Say so rather than
		// claim the target is clean.
		return fmt.Errorf("the scrape job's creation was sent but its id never came back, and nothing is stored under tag %s yet: a queued job may still store grants; check GET /scraper/grants?tag=%s later and delete its job by hand", r.tag, url.QueryEscape(r.tag))
	}
	rec.Logf("GET %s: nothing left under tag %s", resp.URL, r.tag)
	return nil
}

// transient reports whether a poll error may go away by itself.
func transient(err error) bool {
	var te *httpcheck.TimeoutError
	var se *httpcheck.StatusError
	switch {
	case errors.As(err, &te):
		return true
	case errors.As(err, &se):
		return se.Got == http.StatusTooManyRequests || se.Got == http.StatusBadGateway ||
			se.Got == http.StatusServiceUnavailable || se.Got == http.StatusGatewayTimeout
	}
	return false
}

func normalise(urls []string) []string {
	out := make([]string, len(urls))
	for i, s := range urls {
		if u, err := url.Parse(s); err == nil {
			s = u.String()
		}
		out[i] = s
	}
	return out
}

// diff returns what want has that got lacks, and the reverse.
func diff(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) && !slices.Contains(extra, g) {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

func duplicates(s []string) []string {
	count := map[string]int{}
	var dup []string
	for _, x := range s {
		count[x]++
		if count[x] == 2 {
			dup = append(dup, x)
		}
	}
	return dup
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(firstN(s, 5), ", ")
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}
