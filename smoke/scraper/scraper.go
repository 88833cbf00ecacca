package scraper

import (
	"context"
	"encoding/json"
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
	tag     string // the main scrape's
	jobID   string // its job, from the answer
	job     Job    // ... finished
	// Every POST /scraper/jobs the flow sent, whatever its answer, for the
	// cleanup: the tags sent, the job ids answered, and whether an answer
	// never came (timeout: a job may exist without its id).
	tags   []string
	jobIDs []string
	posted bool
	lost   []string // tags whose POST's answer was lost
}

// New returns the scraper flow for the target: read the configured listing
// (smoke.listingURL) page by page to know what it lists, start a scrape of
// it on data-service under a unique tag, follow the job to completion
// within smoke.jobTimeout, and check that every page was fetched and every
// listed grant stored exactly once; then check that bad input is refused
// (a source_url that does not parse, one that is not http(s), max_pages 0)
// and that a one-page scrape (max_pages=1) fetches the first page only and
// stores its grants. The cleanup deletes every job the flow created and
// what it stored (DELETE /scraper/jobs/{id}) and checks nothing is left
// under its tags.
func New(tgt *target.Target) flow.Flow {
	r := &run{tgt: tgt}
	return flow.Flow{
		Name: "scraper",
		// The deadlines of its two jobs (the listing's, the one-page one),
		// plus the listing walk and the checks.
		Timeout: 2*tgt.Smoke.JobTimeout + time.Minute,
		Redact:  tgt.Redact,
		Steps: []flow.Step{
			{Name: "read_listing", Run: r.readListing},
			{Name: "start_job", Run: r.startJob},
			{Name: "job_completes", Run: r.waitJob},
			{Name: "every_page_fetched", Run: r.everyPage},
			{Name: "every_grant_stored_once", Run: r.everyGrant},
			{Name: "bad_input_400", Run: r.badInput},
			{Name: "one_page_scrape", Run: r.onePage},
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
	resp, id, err := r.startScrape(ctx, r.tgt.Smoke.ListingURL, len(r.listing.Pages)+1, r.tag) // room for one page too many, never a runaway
	if err != nil {
		return err
	}
	r.jobID = id
	rec.Record("POST "+resp.URL+" tag "+r.tag, fmt.Sprintf("%d, job %s queued", resp.Status, id))
	return nil
}

// jobAnswer is the body of POST /scraper/jobs.
type jobAnswer struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// post sends POST /scraper/jobs and notes, for the cleanup, the tag sent,
// the job id answered (whatever the status) and a lost answer.
func (r *run) post(ctx context.Context, body map[string]any, want int) (*httpcheck.Response, jobAnswer, error) {
	tag, _ := body["tag"].(string)
	if !slices.Contains(r.tags, tag) {
		r.tags = append(r.tags, tag)
	}
	var got jobAnswer
	resp, err := r.api.PostJSON(ctx, "/scraper/jobs", body, want, nil)
	var unreachable *httpcheck.UnreachableError
	var timedOut *httpcheck.TimeoutError
	switch {
	case errors.As(err, &unreachable):
		// No connection was made: no job can have been created.
	case errors.As(err, &timedOut):
		r.posted = true
		r.lost = append(r.lost, tag)
	default:
		r.posted = true
	}
	if resp != nil && resp.Status/100 == 2 {
		if derr := json.Unmarshal(resp.Body, &got); derr == nil && got.ID != "" && !slices.Contains(r.jobIDs, got.ID) {
			r.jobIDs = append(r.jobIDs, got.ID)
		}
	}
	if err == nil && resp.Status/100 == 2 && got.ID == "" {
		return resp, got, resp.Errorf("no job id in the answer")
	}
	return resp, got, err
}

// startScrape starts a scrape job that must be accepted, queued.
func (r *run) startScrape(ctx context.Context, source string, maxPages int, tag string) (*httpcheck.Response, string, error) {
	resp, got, err := r.post(ctx, map[string]any{"source_url": source, "max_pages": maxPages, "tag": tag}, http.StatusAccepted)
	if err != nil {
		return resp, "", err
	}
	if got.Status != "queued" {
		// The client shows this to the user who asked for the scrape.
		return resp, "", resp.Errorf(`job %s created with status %q, want "queued" (docs/API.md)`, got.ID, got.Status)
	}
	return resp, got.ID, nil
}

func (r *run) waitJob(ctx context.Context, rec *flow.Recorder) error {
	j, err := r.follow(ctx, rec, r.jobID)
	r.job = j
	return err
}

// follow reads job id every PollInterval until it succeeds or fails,
// within smoke.jobTimeout, and returns it once succeeded. Transient
// answers (timeouts, 429, 502-504) are retried; on timeout the error says
// the last state seen.
func (r *run) follow(ctx context.Context, rec *flow.Recorder, id string) (Job, error) {
	timeout := r.tgt.Smoke.JobTimeout
	start := time.Now()
	path := "/scraper/jobs/" + url.PathEscape(id)
	name := fmt.Sprintf("%s GET %s%s: job %s to finish (smoke.jobTimeout)", target.DataService, r.api.Base, path, id)
	var last, done Job
	seen := false
	err := wait.Poll(ctx, name, PollInterval, timeout, func(ctx context.Context) (bool, string, error) {
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
				done = j
				rec.Logf("job %s succeeded in %s", id, time.Since(start).Round(time.Millisecond))
				return true, "", nil
			case "failed":
				return false, "", resp.Errorf("job %s failed: %q (%s)", id, j.Error, j)
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
	return done, err
}

func (r *run) everyPage(_ context.Context, rec *flow.Recorder) error {
	if err := pagesFetched(r.job, r.jobID, r.listing.Pages, "the listing has", "not in the listing"); err != nil {
		return err
	}
	rec.Logf("job %s fetched all %d pages of the listing, each once", r.jobID, len(r.listing.Pages))
	return nil
}

// pagesFetched checks that job fetched exactly the pages want, each once;
// wantIs and extraIs name want and the pages beyond it in the message.
func pagesFetched(job Job, id string, want []string, wantIs, extraIs string) error {
	got := job.Pages
	missing, extra := diff(normalise(want), normalise(got))
	if len(missing) > 0 || len(extra) > 0 || job.PagesFetched != len(want) || len(got) != len(want) {
		return fmt.Errorf("job %s fetched %d pages (pages_fetched %d), %s %d; missing: %s; %s: %s",
			id, len(got), job.PagesFetched, wantIs, len(want), list(missing), extraIs, list(extra))
	}
	return nil
}

func (r *run) everyGrant(ctx context.Context, rec *flow.Recorder) error {
	if err := r.storedOnce(ctx, rec, r.tag, r.job, r.listing.Grants); err != nil {
		return err
	}
	rec.Logf("all %d listed grants stored exactly once under tag %s", len(r.listing.Grants), r.tag)
	return nil
}

// storedOnce checks that what job stored under tag is the grants listed,
// each exactly once, with the listing's titles.
func (r *run) storedOnce(ctx context.Context, rec *flow.Recorder, tag string, job Job, listed []Listed) error {
	var got storedPage
	resp, err := r.api.GetJSON(ctx, "/scraper/grants?tag="+url.QueryEscape(tag), http.StatusOK, &got)
	if err != nil {
		return err
	}
	if got.Total == nil || got.Results == nil {
		return resp.Errorf(`want {"results":[...],"total":N}; "results" or "total" is missing`)
	}
	rec.Record("GET "+resp.URL, fmt.Sprintf("%d, %d grants (total %d)", resp.Status, len(got.Results), *got.Total))
	want := make([]string, len(listed))
	for i, g := range listed {
		want[i] = g.Ref
	}
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
	if job.GrantsFound != len(want) || job.GrantsStored != len(want) {
		problems = append(problems, fmt.Sprintf("the job reports grants_found %d, grants_stored %d", job.GrantsFound, job.GrantsStored))
	}
	titles := map[string]string{}
	for _, g := range listed {
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
	return nil
}

// badInput sends scrape requests a client may get wrong, each under a
// tag of its own: a source_url that does not parse, one that is not
// http(s), and max_pages 0. Each must be refused (400) and create no job;
// a job wrongly created is deleted by the cleanup.
func (r *run) badInput(ctx context.Context, rec *flow.Recorder) error {
	listing := r.tgt.Smoke.ListingURL
	otherScheme := "ftp://listing.invalid/grants"
	if u, err := url.Parse(listing); err == nil && u.Host != "" {
		u.Scheme = "ftp"
		otherScheme = u.String() // the listing itself, by FTP
	}
	cases := []struct {
		what string
		body map[string]any
	}{
		{"a source_url that does not parse", map[string]any{"source_url": "http://grants listing.example/page 1", "max_pages": 1}},
		{"a source_url that is not http(s)", map[string]any{"source_url": otherScheme, "max_pages": 1}},
		{"max_pages 0", map[string]any{"source_url": listing, "max_pages": 0}},
	}
	tag := r.tag + "-refused"
	for _, c := range cases {
		c.body["tag"] = tag
		resp, got, err := r.post(ctx, c.body, http.StatusBadRequest)
		if err != nil {
			created := ""
			if got.ID != "" {
				created = fmt.Sprintf(" (it created job %s, deleted by the cleanup)", got.ID)
			}
			return fmt.Errorf("a scrape job with %s (source_url %q, max_pages %v) must be refused%s: %w",
				c.what, c.body["source_url"], c.body["max_pages"], created, err)
		}
		rec.Record(fmt.Sprintf("POST %s with %s", resp.URL, c.what), fmt.Sprintf("%d: refused", resp.Status))
	}
	return nil
}

// onePage scrapes the listing with max_pages=1, the smallest scrape a
// user can ask for: the job must fetch the first page only and store its
// grants, each once.
func (r *run) onePage(ctx context.Context, rec *flow.Recorder) error {
	tag := r.tag + "-one-page"
	resp, id, err := r.startScrape(ctx, r.tgt.Smoke.ListingURL, 1, tag)
	if err != nil {
		return fmt.Errorf("a one-page scrape (max_pages=1) must be accepted: %w", err)
	}
	rec.Record("POST "+resp.URL+" max_pages=1 tag "+tag, fmt.Sprintf("%d, job %s queued", resp.Status, id))
	job, err := r.follow(ctx, rec, id)
	if err != nil {
		return err
	}
	first := r.listing.Pages[0]
	if err := pagesFetched(job, id, []string{first}, "max_pages=1 allows", "beyond max_pages"); err != nil {
		return err
	}
	var listed []Listed
	for _, g := range r.listing.Grants {
		if g.Page == first {
			listed = append(listed, g)
		}
	}
	if err := r.storedOnce(ctx, rec, tag, job, listed); err != nil {
		return fmt.Errorf("max_pages=1: %w", err)
	}
	rec.Logf("job %s fetched the first page only and stored its %d grants under tag %s", id, len(listed), tag)
	return nil
}

// cleanup deletes every job the flow created and what it stored, then
// checks that nothing is left under its tags.
func (r *run) cleanup(ctx context.Context, rec *flow.Recorder) error {
	if !r.posted {
		rec.Logf("no scrape job was started: nothing to delete")
		return nil
	}
	ids := slices.Clone(r.jobIDs)
	// Jobs found under the tags: one whose POST answer was lost, or more.
	var unseen []string // tags whose POST's answer was lost and which store nothing
	for _, tag := range r.tags {
		var got storedPage
		if _, err := r.api.GetJSON(ctx, "/scraper/grants?tag="+url.QueryEscape(tag), http.StatusOK, &got); err != nil {
			return fmt.Errorf("cannot list what tag %s stored (delete it by hand): %w", tag, err)
		}
		if len(got.Results) == 0 && slices.Contains(r.lost, tag) {
			unseen = append(unseen, tag)
		}
		for _, g := range got.Results {
			if g.JobID != "" && !slices.Contains(ids, g.JobID) {
				ids = append(ids, g.JobID)
			}
		}
	}
	var errs []error
	for _, id := range ids {
		resp, err := r.api.Delete(ctx, "/scraper/jobs/"+url.PathEscape(id), http.StatusNoContent)
		if err != nil {
			errs = append(errs, fmt.Errorf("cannot delete scrape job %s (tags %s; delete it by hand): %w", id, strings.Join(r.tags, ", "), err))
			continue
		}
		rec.Logf("DELETE %s: %d", resp.URL, resp.Status)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, tag := range r.tags {
		var got storedPage
		resp, err := r.api.GetJSON(ctx, "/scraper/grants?tag="+url.QueryEscape(tag), http.StatusOK, &got)
		if err != nil {
			return fmt.Errorf("cannot check that tag %s left nothing behind: %w", tag, err)
		}
		if len(got.Results) > 0 {
			return resp.Errorf("%d grants still stored under tag %s after deleting job(s) %s (delete them by hand)", len(got.Results), tag, strings.Join(ids, ", "))
		}
		rec.Logf("GET %s: nothing left under tag %s", resp.URL, tag)
	}
	if len(unseen) > 0 {
		// A POST's answer was lost and nothing is stored yet: a queued job
		// may still store grants under the tag later. Say so rather than
		// claim the target is clean.
		return fmt.Errorf("a scrape job's creation was sent but its id never came back, and nothing is stored under tag %s yet: a queued job may still store grants; check GET /scraper/grants?tag=%s later and delete its job by hand",
			strings.Join(unseen, ", "), url.QueryEscape(unseen[0]))
	}
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
