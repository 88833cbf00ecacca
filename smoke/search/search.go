package search

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

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

// Filter is one search: the query parameters and what every result must
// satisfy.
type Filter struct {
	Query                         string
	Category, Region              string
	MinAmount, MaxAmount          int64 // 0: not set
	DeadlineAfter, DeadlineBefore string
	Page, Limit                   int
}

// Values are the query parameters.
func (f Filter) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	num := func(k string, n int64) {
		if n > 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	set("query", f.Query)
	set("category", f.Category)
	set("region", f.Region)
	num("min_amount", f.MinAmount)
	num("max_amount", f.MaxAmount)
	set("deadline_after", f.DeadlineAfter)
	set("deadline_before", f.DeadlineBefore)
	num("page", int64(f.Page))
	num("limit", int64(f.Limit))
	return v
}

// Violation says how g breaks the filter, or "" when it satisfies it.
func (f Filter) Violation(g Grant) string {
	var bad []string
	if f.Query != "" && !matchesQuery(g, f.Query) {
		bad = append(bad, fmt.Sprintf("title and summary do not contain %q", f.Query))
	}
	if f.Category != "" && g.Category != f.Category {
		bad = append(bad, fmt.Sprintf("category %q, want %q", g.Category, f.Category))
	}
	if f.Region != "" && g.Region != f.Region {
		bad = append(bad, fmt.Sprintf("region %q, want %q", g.Region, f.Region))
	}
	if f.MinAmount > 0 && g.Amount < f.MinAmount {
		bad = append(bad, fmt.Sprintf("amount %d < min_amount %d", g.Amount, f.MinAmount))
	}
	if f.MaxAmount > 0 && g.Amount > f.MaxAmount {
		bad = append(bad, fmt.Sprintf("amount %d > max_amount %d", g.Amount, f.MaxAmount))
	}
	// YYYY-MM-DD compares as text.
	if f.DeadlineAfter != "" && g.Deadline < f.DeadlineAfter {
		bad = append(bad, fmt.Sprintf("deadline %s before deadline_after %s", g.Deadline, f.DeadlineAfter))
	}
	if f.DeadlineBefore != "" && g.Deadline > f.DeadlineBefore {
		bad = append(bad, fmt.Sprintf("deadline %s after deadline_before %s", g.Deadline, f.DeadlineBefore))
	}
	if _, err := time.Parse(time.DateOnly, g.Deadline); err != nil {
		bad = append(bad, fmt.Sprintf("deadline %q is not YYYY-MM-DD", g.Deadline))
	}
	if g.ID == 0 || g.Title == "" {
		bad = append(bad, "no id or no title")
	}
	return strings.Join(bad, "; ")
}

// matchesQuery: Postgres full-text search matches word stems, so a result
// for "computing" contains a word starting with "comp". Four letters is
// short enough for every English suffix rule ("organisations" matches
// "organise") and long enough to tell results apart.
func matchesQuery(g Grant, query string) bool {
	text := strings.ToLower(g.Title + " " + g.Summary)
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if !strings.Contains(text, stemPrefix(w)) {
			return false
		}
	}
	return true
}

func stemPrefix(w string) string {
	if r := []rune(w); len(r) > 4 {
		return string(r[:4])
	}
	return w
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

// New returns the search flow for the target: a plain query, each filter
// (category, region, amount, deadline) and their combination, with every
// result checked against every filter; pages that must not overlap and
// must add up to the reported total; unknown filter values that must give
// an empty result; and the p95 of every request's latency against the
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
			{Name: "filter_category", Run: r.filterCategory},
			{Name: "filter_region", Run: r.filterRegion},
			{Name: "filter_amount", Run: r.filterAmount},
			{Name: "filter_deadline", Run: r.filterDeadline},
			{Name: "filters_combined", Run: r.filterCombined},
			{Name: "pages_consistent", Run: r.pages},
			{Name: "unknown_filter_value_empty", Run: r.unknownValues},
			// Independent: the latency of the requests made is worth reporting
			// even when an earlier step found a wrong answer.
			{Name: "latency_p95", Run: r.latencyP95, Independent: true},
		},
	}
}

// search sends one GET /search and records its latency.
func (r *run) search(ctx context.Context, f Filter) (*httpcheck.Response, Page, error) {
	var p Page
	resp, err := r.api.GetJSON(ctx, "/search?"+f.Values().Encode(), http.StatusOK, &p)
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

func (r *run) query(ctx context.Context, rec *flow.Recorder) error {
	api, err := httpcheck.ForService(r.tgt, target.BackendCore)
	if err != nil {
		return err
	}
	r.api = api
	resp, p, err := r.search(ctx, Filter{Limit: 20})
	if err != nil {
		return err
	}
	rec.Record("GET "+resp.URL+" (no filter)", fmt.Sprintf("%d, %d results of %d", resp.Status, len(p.Results), *p.Total))
	if len(p.Results) < 2 {
		return resp.Errorf("want at least 2 grants to search among, got %d", len(p.Results))
	}
	for i, g := range p.Results {
		if v := (Filter{}).Violation(g); v != "" {
			return resp.Errorf("results[%d] (id %d) is malformed: %s", i, g.ID, v)
		}
	}
	r.base, r.all = p, *p.Total
	word := pickWord(p.Results)
	if word == "" {
		return resp.Errorf("cannot choose a query word: no word of 6+ letters in a title that is missing from another result")
	}
	qp, err := r.check(ctx, rec, fmt.Sprintf("query %q", word), Filter{Query: word, Limit: 20})
	if err != nil {
		return err
	}
	if *qp.Total >= r.all {
		return fmt.Errorf("GET /search?query=%s: total %d, want fewer than the %d grants of an unfiltered search (some grants do not contain %q): the query is ignored",
			word, *qp.Total, r.all, word)
	}
	return nil
}

func (r *run) filterCategory(ctx context.Context, rec *flow.Recorder) error {
	c := pickValue(r.base.Results, func(g Grant) string { return g.Category })
	_, err := r.check(ctx, rec, "category="+c, Filter{Category: c, Limit: 20})
	return err
}

func (r *run) filterRegion(ctx context.Context, rec *flow.Recorder) error {
	v := pickValue(r.base.Results, func(g Grant) string { return g.Region })
	_, err := r.check(ctx, rec, "region="+v, Filter{Region: v, Limit: 20})
	return err
}

func (r *run) filterAmount(ctx context.Context, rec *flow.Recorder) error {
	amounts := make([]int64, 0, len(r.base.Results))
	for _, g := range r.base.Results {
		amounts = append(amounts, g.Amount)
	}
	slices.Sort(amounts)
	// From the median to the largest amount on the first page: half of the
	// page is outside, at least two grants are inside.
	lo, hi := amounts[len(amounts)/2], amounts[len(amounts)-1]
	_, err := r.check(ctx, rec, fmt.Sprintf("min_amount=%d&max_amount=%d", lo, hi), Filter{MinAmount: lo, MaxAmount: hi, Limit: 20})
	return err
}

func (r *run) filterDeadline(ctx context.Context, rec *flow.Recorder) error {
	// Results come by deadline: from the first deadline after the earliest
	// to the last on the page, so the earliest grants are outside.
	res := r.base.Results
	after, before := res[len(res)/2].Deadline, res[len(res)-1].Deadline
	if after == res[0].Deadline {
		after = addDays(after, 1)
		if after > before {
			before = addDays(after, 365)
		}
	}
	_, err := r.check(ctx, rec, fmt.Sprintf("deadline_after=%s&deadline_before=%s", after, before),
		Filter{DeadlineAfter: after, DeadlineBefore: before, Limit: 20})
	return err
}

func (r *run) filterCombined(ctx context.Context, rec *flow.Recorder) error {
	// Every filter at once, around one grant that satisfies them all.
	g := r.base.Results[len(r.base.Results)-1]
	f := Filter{Query: titleWord(g), Category: g.Category, Region: g.Region, MinAmount: max(1, g.Amount/2), MaxAmount: g.Amount * 2,
		DeadlineAfter: g.Deadline, DeadlineBefore: addDays(g.Deadline, 90), Limit: 20}
	p, err := r.check(ctx, rec, "every filter together ("+f.Values().Encode()+")", f)
	if err != nil {
		return err
	}
	for _, x := range p.Results {
		if x.ID == g.ID {
			return nil
		}
	}
	if len(p.Results) < f.Limit {
		return fmt.Errorf("GET /search?%s: grant %d (%q) satisfies every filter but is not among the %d results", f.Values().Encode(), g.ID, g.Title, len(p.Results))
	}
	return nil
}

// maxWalk bounds the pages walked in pages_consistent.
const maxWalk = 6

func (r *run) pages(ctx context.Context, rec *flow.Recorder) error {
	// A filtered set of modest size, walked page by page to its end.
	c := pickValue(r.base.Results, func(g Grant) string { return g.Category })
	f := Filter{Category: c, Limit: 20}
	resp, first, err := r.search(ctx, f)
	if err != nil {
		return err
	}
	total := *first.Total
	rec.Record("GET "+resp.URL, fmt.Sprintf("%d, total %d", resp.Status, total))
	if total < 2 {
		return resp.Errorf("total %d, want at least 2 grants to page through", total)
	}
	// At most maxWalk-1 pages, so the walk reaches the end.
	limit := min(100, max(2, (total+maxWalk-2)/(maxWalk-1)))
	pages := (total + limit - 1) / limit
	walk := min(pages, maxWalk)
	seen := map[int64]int{} // id -> page it was on
	var prev Grant
	count := 0
	for n := 1; n <= walk+1; n++ {
		f.Page, f.Limit = n, limit
		resp, p, err := r.search(ctx, f)
		if err != nil {
			return err
		}
		rec.Record("GET "+resp.URL, fmt.Sprintf("%d, %d results, total %d", resp.Status, len(p.Results), *p.Total))
		if p.Page != n || p.Limit != limit {
			return resp.Errorf("the body says page %d, limit %d; asked for page %d, limit %d", p.Page, p.Limit, n, limit)
		}
		if *p.Total != total {
			return resp.Errorf("page %d (limit %d) reports total %d, the same search with limit 20 reported %d: the total is not the number of matches", n, limit, *p.Total, total)
		}
		want := limit
		switch {
		case n == pages:
			want = total - (pages-1)*limit
		case n > pages:
			want = 0
		}
		if len(p.Results) != want {
			return resp.Errorf("page %d of %d (limit %d, total %d) has %d results, want %d", n, pages, limit, total, len(p.Results), want)
		}
		for i, g := range p.Results {
			if on, dup := seen[g.ID]; dup {
				return resp.Errorf("page %d repeats grant %d from page %d: consecutive pages overlap", n, g.ID, on)
			}
			seen[g.ID] = n
			if v := f.Violation(g); v != "" {
				return resp.Errorf("results[%d] (id %d): %s", i, g.ID, v)
			}
			if count > 0 && (g.Deadline < prev.Deadline || (g.Deadline == prev.Deadline && g.ID < prev.ID)) {
				return resp.Errorf("grant %d (deadline %s) comes after grant %d (deadline %s): pages are not in the stable order deadline, id",
					g.ID, g.Deadline, prev.ID, prev.Deadline)
			}
			prev = g
			count++
		}
		if n == walk && walk < pages {
			break // a large set: the first maxWalk pages are enough
		}
	}
	if walk == pages && count != total {
		return fmt.Errorf("GET /search?category=%s: the %d pages hold %d grants, total says %d", c, pages, count, total)
	}
	rec.Logf("%d pages of %d (total %d): no grant twice, every page full but the last, all in order", walk, limit, total)
	return nil
}

func (r *run) unknownValues(ctx context.Context, rec *flow.Recorder) error {
	unknown := flow.Unique("smoke-unknown-")
	for _, f := range []Filter{{Category: unknown}, {Region: unknown}} {
		resp, p, err := r.search(ctx, f)
		if err != nil {
			return fmt.Errorf("an unknown filter value must give an empty result, not an error: %w", err)
		}
		if len(p.Results) != 0 || *p.Total != 0 {
			return resp.Errorf("%d results, total %d for an unknown value; want none", len(p.Results), *p.Total)
		}
		rec.Record("GET "+resp.URL, fmt.Sprintf("%d, results [], total 0", resp.Status))
	}
	return nil
}

// MinSamples is how many requests the p95 is computed over at least: with
// fewer, one slow request would be the p95 on its own.
const MinSamples = 25

func (r *run) latencyP95(ctx context.Context, rec *flow.Recorder) error {
	r.mu.Lock()
	n := len(r.latencies)
	r.mu.Unlock()
	if n == 0 {
		return flow.Skip("no search request was answered, so there is no latency to judge")
	}
	// Top up with the kind of search users make, page by page.
	word := pickWord(r.base.Results)
	for i := 0; n < MinSamples; i++ {
		if _, _, err := r.search(ctx, Filter{Query: word, Page: i%3 + 1, Limit: 20}); err != nil {
			return fmt.Errorf("sampling latency: %w", err)
		}
		n++
	}
	r.mu.Lock()
	ds := append([]time.Duration(nil), r.latencies...)
	r.mu.Unlock()
	budget := r.tgt.Smoke.SearchP95
	p95 := Percentile(ds, 95)
	slices.Sort(ds)
	line := fmt.Sprintf("search p95 %s over %d requests (budget %s)", p95.Round(time.Millisecond), len(ds), budget)
	rec.Logf("latencies: min %s, median %s, max %s", ds[0].Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	rec.Logf("%s", line)
	if p95 > budget {
		return fmt.Errorf("%s: p95 over budget by %s; slowest: %s", line, (p95 - budget).Round(time.Millisecond), slowest(ds, 3))
	}
	return nil
}

// Percentile is the nearest-rank percentile (p in 1..100) of ds: the
// smallest value at least p% of the samples are at or below.
func Percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

func slowest(sorted []time.Duration, n int) string {
	var out []string
	for i := len(sorted) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, sorted[i].Round(time.Millisecond).String())
	}
	return strings.Join(out, ", ")
}

// pickValue chooses the value of the first result that some other result
// on the page does not share, so that a filter that is ignored lets those
// others through; failing that, the first result's value.
func pickValue(res []Grant, of func(Grant) string) string {
	for _, g := range res {
		for _, o := range res {
			if of(o) != of(g) {
				return of(g)
			}
		}
	}
	return of(res[0])
}

// pickWord chooses a word of a result's title that some other result on
// the page does not contain, so that an ignored query lets it through.
func pickWord(res []Grant) string {
	for _, g := range res {
		for _, w := range words(g.Title) {
			for _, o := range res {
				if !matchesQuery(o, w) {
					return w
				}
			}
		}
	}
	return ""
}

// titleWord is a word of 6+ letters from g's title, "" when there is none.
func titleWord(g Grant) string {
	if ws := words(g.Title); len(ws) > 0 {
		return ws[0]
	}
	return ""
}

// words are the title's words of 6 letters or more, lower-cased, minus a
// few English stop words full-text search ignores.
func words(title string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(title), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) >= 6 && !slices.Contains(stopWords, w) {
			out = append(out, w)
		}
	}
	return out
}

var stopWords = []string{"before", "should", "through", "during", "because", "between", "against", "further", "yourself", "themselves", "ourselves"}

func addDays(date string, n int) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}
