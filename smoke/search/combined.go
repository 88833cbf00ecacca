package search

import (
	"context"
	"fmt"
	"net/http"

	"github.com/granter/runbook/internal/flow"
)

// anchorLimit is the page size of the searches around one grant: large
// enough that the grant is on the first page whenever it matches.
const anchorLimit = 100

// around is every filter at once, each set so that g satisfies it.
func around(g Grant) Filter {
	return Filter{Query: titleWord(g), Category: g.Category, Region: g.Region, MinAmount: max(1, g.Amount/2), MaxAmount: g.Amount * 2,
		DeadlineAfter: g.Deadline, DeadlineBefore: addDays(g.Deadline, 90), Limit: anchorLimit}
}

// excluding is one filter of a combination set so that the anchor fails
// it while every other filter still lets the anchor through.
type excluding struct {
	name string
	f    Filter
}

// exclusions are, for each filter, the combination around g with that one
// filter moved to exclude g. other is another grant of the page (a
// category, a region, a word g does not have).
func exclusions(g Grant, base []Grant) []excluding {
	f := around(g)
	var out []excluding
	add := func(name string, edit func(*Filter) bool) {
		x := f
		if edit(&x) {
			out = append(out, excluding{name, x})
		}
	}
	add("query", func(x *Filter) bool {
		for _, o := range base {
			for _, w := range words(o.Title) {
				if !matchesQuery(g, w) {
					x.Query = w
					return true
				}
			}
		}
		return false
	})
	add("category", func(x *Filter) bool {
		x.Category = pickOther(base, g, func(o Grant) string { return o.Category })
		return x.Category != ""
	})
	add("region", func(x *Filter) bool {
		x.Region = pickOther(base, g, func(o Grant) string { return o.Region })
		return x.Region != ""
	})
	add("min_amount", func(x *Filter) bool { x.MinAmount = g.Amount + 1; return true })
	add("max_amount", func(x *Filter) bool { x.MaxAmount = g.Amount - 1; return g.Amount > 1 })
	add("deadline_after", func(x *Filter) bool { x.DeadlineAfter = addDays(g.Deadline, 1); return true })
	add("deadline_before", func(x *Filter) bool { x.DeadlineBefore = addDays(g.Deadline, -1); return true })
	return out
}

// pickOther is a value of another grant that g does not have; "" when the
// page has none.
func pickOther(base []Grant, g Grant, of func(Grant) string) string {
	for _, o := range base {
		if of(o) != of(g) {
			return of(o)
		}
	}
	return ""
}

// eachFilterCounts: every filter, combined with all the others, changes the
// answer. Around the anchor grant (which the combination finds), each
// filter in turn is moved to exclude it while the others stay: the anchor
// must disappear, and every result must satisfy the moved filter. A
// filter the server drops when others are present lets the anchor back in.
func (r *run) eachFilterCounts(ctx context.Context, rec *flow.Recorder, g Grant) error {
	xs := exclusions(g, r.base.Results)
	if len(xs) < 7 {
		var names []string
		for _, x := range xs {
			names = append(names, x.name)
		}
		return fmt.Errorf("the first page of an unfiltered search offers no other category, region or title word than grant %d's: only %v can be moved (want all 7 filters)", g.ID, names)
	}
	for _, x := range xs {
		what := fmt.Sprintf("every filter around grant %d, %s moved to exclude it (%s)", g.ID, x.name, x.f.Values().Encode())
		resp, p, err := r.search(ctx, x.f)
		if err != nil {
			return err
		}
		for i, o := range p.Results {
			if o.ID == g.ID {
				return resp.Errorf("grant %d (%s) is results[%d] though %s excludes it: %s is ignored when combined with the other filters",
					g.ID, describe(g), i, x.name, x.name)
			}
			if v := x.f.Violation(o); v != "" {
				return resp.Errorf("results[%d] (id %d) does not satisfy %s: %s", i, o.ID, what, v)
			}
		}
		rec.Record("GET "+resp.URL+" ("+x.name+" moved)", fmt.Sprintf("%d, %d results of %d, grant %d not among them", resp.Status, len(p.Results), *p.Total, g.ID))
	}
	return nil
}

func describe(g Grant) string {
	return fmt.Sprintf("%q, %s, %s, %d %s, deadline %s", g.Title, g.Category, g.Region, g.Amount, g.Currency, g.Deadline)
}

// severalWords: a query of two words finds the grants that have both. Two
// words of one grant's title find it; one of them with a word that grant
// lacks (taken from another grant) must not, and every result must
// contain both words.
func (r *run) severalWords(ctx context.Context, rec *flow.Recorder) error {
	for _, g := range r.base.Results {
		ws := words(g.Title)
		if len(ws) < 2 {
			continue
		}
		var lacks string
		for _, o := range r.base.Results {
			for _, w := range words(o.Title) {
				if !matchesQuery(g, w) {
					lacks = w
					break
				}
			}
			if lacks != "" {
				break
			}
		}
		if lacks == "" {
			continue
		}
		both := ws[0] + " " + ws[len(ws)-1]
		p, err := r.check(ctx, rec, fmt.Sprintf("query %q (both words in grant %d's title)", both, g.ID), Filter{Query: both, Limit: anchorLimit})
		if err != nil {
			return err
		}
		if !has(p, g.ID) && len(p.Results) < anchorLimit {
			return fmt.Errorf("GET /search?query=%s: grant %d (%s) has both words but is not among the %d results", both, g.ID, describe(g), len(p.Results))
		}
		mixed := ws[0] + " " + lacks
		f := Filter{Query: mixed, Limit: anchorLimit}
		resp, q, err := r.search(ctx, f)
		if err != nil {
			return err
		}
		if has(q, g.ID) {
			return resp.Errorf("grant %d (%s) lacks %q but is among the results for %q: only some words of the query are applied", g.ID, describe(g), lacks, mixed)
		}
		for i, o := range q.Results {
			if v := f.Violation(o); v != "" {
				return resp.Errorf("results[%d] (id %d) for query %q: %s", i, o.ID, mixed, v)
			}
		}
		rec.Record("GET "+resp.URL, fmt.Sprintf("%d, %d results of %d, every one with both words; grant %d (without %q) not among them", resp.Status, len(q.Results), *q.Total, g.ID, lacks))
		return nil
	}
	return fmt.Errorf("no grant on the first page of an unfiltered search has two title words of 6+ letters and a word it lacks in another title: cannot build a query of several words from the target's data")
}

func has(p Page, id int64) bool {
	for _, g := range p.Results {
		if g.ID == id {
			return true
		}
	}
	return false
}

// edgeValues: the smallest values the API takes are answered like any
// other: min_amount=0 is no lower bound (every grant), limit=1 is a page
// of one result. A client sending "from 0 euros" or asking for the first
// match only must not get a 400.
func (r *run) edgeValues(ctx context.Context, rec *flow.Recorder) error {
	v := Filter{Limit: 1}.Values()
	v.Set("min_amount", "0")
	resp, p, err := r.searchRaw(ctx, v.Encode())
	if err != nil {
		return fmt.Errorf("min_amount=0&limit=1 must be answered like any search: %w", err)
	}
	if len(p.Results) != 1 || *p.Total != r.all {
		return resp.Errorf("%d results, total %d; want 1 result (limit=1) of %d (min_amount=0 is no lower bound: the unfiltered total)", len(p.Results), *p.Total, r.all)
	}
	rec.Record("GET "+resp.URL, fmt.Sprintf("%d, 1 result of %d", resp.Status, *p.Total))
	return nil
}

// zeroPageLimit asks for page 0 and for limit 0, below the smallest value
// each accepts (docs/API.md: page is 1-based, a limit is at least 1): the
// API must refuse them (400), not answer a page a client cannot rely on.
func (r *run) zeroPageLimit(ctx context.Context, rec *flow.Recorder) error {
	for _, param := range []string{"page", "limit"} {
		resp, err := r.api.GetJSON(ctx, "/search?"+param+"=0", http.StatusBadRequest, nil)
		if err != nil {
			return fmt.Errorf("%s=0 must be refused (%s is at least 1): %w", param, param, err)
		}
		rec.Record("GET "+resp.URL, fmt.Sprintf("%d: refused", resp.Status))
	}
	return nil
}
