package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/granter/runbook/internal/flow"
)

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
