// Package stats decides the runbook's rate and latency lines from the
// counts behind them, not from a point estimate:
//
//	Step 4.5 — "Error Rate should be < 0.1%"
//	Monitoring phase — "Error rate: < 0.1%", "API response time: < 200ms (p95)"
//	Rollback procedure — "Only if critical issues (> 1% error rate ...)"
//
// "0 errors in 294 requests" does not show an error rate under 0.1%: a true
// rate of 1% gives 0 errors in 294 requests 5% of the time. So every claim
// about a rate is decided from a one-sided 95% Clopper–Pearson bound on the
// observed counts (exact, from the binomial distribution; see Bound):
//
//   - "rate < threshold" (UnderThreshold) is MET when the 95% upper bound
//     is under the threshold and BREACHED when the 95% lower bound is over
//     it. In between it is INCONCLUSIVE, with the number of requests still
//     needed at the observed ratio (Result.Needed).
//   - "rate > threshold" (OverThreshold, the rollback rule) is MET, and the
//     rule fires, only when the 95% lower bound is over the threshold.
//
// With no errors at all, the smallest sample that can show a rate under t is
// MinSample(t), about 3/t: 2,995 requests for 0.1%, 299 for 1%.
//
// Latency: HistogramQuantile reads a quantile from a Prometheus histogram's
// cumulative buckets the way histogram_quantile does, with the width of the
// bucket it fell in (its resolution) and the number of requests behind it;
// it refuses fewer than MinQuantileCount(q) requests (59 for p95). QuantileUnder
// decides "p95 < threshold" with the same bounds, on the share of requests
// slower than the threshold.
//
// When a result is INCONCLUSIVE: there was not enough traffic to tell. Wait
// for Needed more requests (or generate them), never read it as a pass.
// When it is BREACHED: the rate is over the threshold with 95% confidence.
package stats
