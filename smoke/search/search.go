package search

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

// Timeout bounds the whole flow.
const Timeout = 2 * time.Minute

// Grant is one search result (docs/API.md, Search).
type Grant struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Summary  string `json:"summary"`
	Category string `json:"category"`
	Region   string `json:"region"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Deadline string `json:"deadline"`
	URL      string `json:"url"`
}

// Page is the body of GET /search.
type Page struct {
	Results []Grant `json:"results"`
	Total   *int    `json:"total"`
	Page    int     `json:"page"`
	Limit   int     `json:"limit"`
}

// run is the state one run of the flow shares between its steps.
type run struct {
	tgt  *target.Target
	api  *httpcheck.Client
	base Page // GET /search with no filter, page 1
	all  int  // its total

	mu        sync.Mutex
	latencies []time.Duration
}

// New returns the search flow for the target: a plain query, a query of
// two words (both applied), each filter (category, region, amount,
// deadline) and their combination, with every result checked against every
// filter and each filter, moved while the others stay, changing the
// answer; pages that must not overlap and
// must add up to the reported total; unknown filter values that must give
// an empty result; the smallest values answered, page=0 and limit=0
// refused; and the p95 of every request's latency against the
// target's budget (smoke.searchP95, the runbook's 200 ms). The values
// searched for are chosen from the target's own data, so the flow works on
// any data set and no filter can pass vacuously.
func New(tgt *target.Target) flow.Flow {
	r := &run{tgt: tgt}
	return flow.Flow{
		Name:    "search",
		Timeout: Timeout,
		Redact:  tgt.Redact,
		Steps: []flow.Step{
			{Name: "query", Run: r.query},
			{Name: "query_several_words", Run: r.severalWords},
			{Name: "filter_category", Run: r.filterCategory},
			{Name: "filter_region", Run: r.filterRegion},
			{Name: "filter_amount", Run: r.filterAmount},
			{Name: "filter_deadline", Run: r.filterDeadline},
			{Name: "filters_combined", Run: r.filterCombined},
			{Name: "pages_consistent", Run: r.pages},
			{Name: "unknown_filter_value_empty", Run: r.unknownValues},
			{Name: "edge_values", Run: r.edgeValues},
			{Name: "page_limit_zero_400", Run: r.zeroPageLimit},
			// Independent: the latency of the requests made is worth reporting
			// even when an earlier step found a wrong answer.
			{Name: "latency_p95", Run: r.latencyP95, Independent: true},
		},
	}
}

// search sends one GET /search and records its latency.
func (r *run) search(ctx context.Context, f Filter) (*httpcheck.Response, Page, error) {
	return r.searchRaw(ctx, f.Values().Encode())
}

// searchRaw is search with the query string as given.
func (r *run) searchRaw(ctx context.Context, query string) (*httpcheck.Response, Page, error) {
	var p Page
	resp, err := r.api.GetJSON(ctx, "/search?"+query, http.StatusOK, &p)
	if resp != nil {
		r.mu.Lock()
		r.latencies = append(r.latencies, resp.Duration)
		r.mu.Unlock()
	}
	if err != nil {
		return resp, p, err
	}
	if p.Total == nil || p.Results == nil {
		return resp, p, resp.Errorf(`want {"results":[...],"total":N,...}; "results" or "total" is missing`)
	}
	return resp, p, nil
}

// check runs a filtered search that must find something, and checks every
// result against every filter.
func (r *run) check(ctx context.Context, rec *flow.Recorder, what string, f Filter) (Page, error) {
	resp, p, err := r.search(ctx, f)
	if err != nil {
		return p, err
	}
	rec.Record(fmt.Sprintf("GET %s (%s)", resp.URL, what), fmt.Sprintf("%d, %d results of %d, in %s",
		resp.Status, len(p.Results), *p.Total, resp.Duration.Round(time.Millisecond)))
	if len(p.Results) == 0 {
		return p, resp.Errorf("no results for %s, though the target's data has a matching grant (a search that finds nothing proves no filter)", what)
	}
	var bad []string
	for i, g := range p.Results {
		if v := f.Violation(g); v != "" {
			bad = append(bad, fmt.Sprintf("results[%d] (id %d): %s", i, g.ID, v))
		}
	}
	if len(bad) > 0 {
		return p, resp.Errorf("%d of %d results do not satisfy %s: %s", len(bad), len(p.Results), what, strings.Join(firstN(bad, 3), "; "))
	}
	if *p.Total < len(p.Results) {
		return p, resp.Errorf("total %d is less than the %d results on the page", *p.Total, len(p.Results))
	}
	return p, nil
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}
