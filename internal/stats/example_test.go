package stats_test

import (
	"fmt"
	"math"

	"github.com/granter/runbook/internal/stats"
)

// Step 4.5 ("Error Rate should be < 0.1%") and the rollback rule ("> 1%
// error rate") decided from counts, as issue 13 asks.
func ExampleUnderThreshold() {
	fmt.Println(stats.UnderThreshold(0, 294, 0.001))
	fmt.Println(stats.UnderThreshold(0, 3500, 0.001))
	fmt.Println(stats.UnderThreshold(6, 1000, 0.001))
	fmt.Println(stats.MinSample(0.001), "requests with no error show < 0.1%")
	// Output:
	// error rate 0.00% (0/294), 95% upper bound 1.01% ≥ 0.1%: INCONCLUSIVE, ~2,700 more requests needed
	// error rate 0.00% (0/3,500), 95% upper bound 0.0856% < 0.1%: MET
	// error rate 0.60% (6/1,000), 95% lower bound 0.262% > 0.1%: BREACHED
	// 2995 requests with no error show < 0.1%
}

func ExampleOverThreshold() {
	for _, counts := range [][2]float64{{30, 1000}, {6, 1000}} {
		r := stats.OverThreshold(counts[0], counts[1], 0.01)
		fmt.Printf("rollback rule (%s) fires: %v: %s\n", r.Describe(), r.Verdict == stats.Met, r)
	}
	// Output:
	// rollback rule (error rate > 1%) fires: true: error rate 3.00% (30/1,000), 95% lower bound 2.17% > 1%: MET
	// rollback rule (error rate > 1%) fires: false: error rate 0.60% (6/1,000), 95% lower bound 0.262% ≤ 1%: INCONCLUSIVE, ~770 more requests needed
}

// "API response time: < 200ms (p95)" from the buckets of
// http_request_duration_seconds (sum by (le) of increase() over the window).
func ExampleQuantileUnder() {
	buckets := []stats.Bucket{
		{UpperBound: 0.1, Count: 900}, {UpperBound: 0.2, Count: 970},
		{UpperBound: 0.5, Count: 998}, {UpperBound: math.Inf(1), Count: 1000},
	}
	p95, err := stats.HistogramQuantile(0.95, buckets)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p95)
	r, err := stats.QuantileUnder(0.95, buckets, 0.2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Describe()+":", r)

	_, err = stats.HistogramQuantile(0.95, []stats.Bucket{{UpperBound: 0.1, Count: 25}, {UpperBound: math.Inf(1), Count: 25}})
	fmt.Println(err)
	// Output:
	// p95 171.4ms (1,000 requests; bucket 100ms–200ms)
	// requests slower than 200ms < 5%: requests slower than 200ms 3.00% (30/1,000), 95% upper bound 4.05% < 5%: MET
	// p95 needs at least 59 requests, saw 25 (below that not even the slowest request bounds it at 95% confidence)
}
