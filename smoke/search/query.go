package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/target"
)

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
		return fmt.Errorf("GET /search?query=%s reports total %d, want fewer than the %d grants of an unfiltered search (some grants do not contain %q): the query is ignored, or the total is not the number of matches",
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
	f := around(g)
	p, err := r.check(ctx, rec, "every filter together ("+f.Values().Encode()+")", f)
	if err != nil {
		return err
	}
	if !has(p, g.ID) && len(p.Results) < f.Limit {
		return fmt.Errorf("GET /search?%s: grant %d (%q) satisfies every filter but is not among the %d results", f.Values().Encode(), g.ID, g.Title, len(p.Results))
	}
	// Then each filter must change that answer, the others staying.
	return r.eachFilterCounts(ctx, rec, g)
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
