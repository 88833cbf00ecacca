package search

import (
	"context"
	"fmt"

	"github.com/granter/runbook/internal/flow"
)

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
