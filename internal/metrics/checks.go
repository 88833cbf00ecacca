package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/stats"
	"github.com/granter/runbook/internal/wait"
)

// ErrNoData matches every "not enough data to judge" error (errors.Is).
// A check that gets it has not passed.
var ErrNoData = errors.New("no data")

// NoDataError says why a measurement could not be made: too few requests in
// the window, or no series at all.
type NoDataError struct {
	Query    string
	Window   time.Duration
	Requests float64 // requests seen in the window
	Need     int     // the minimum asked for
	Reason   string  // set when the cause is not a request count
}

func (e *NoDataError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("no data: %s (query: %s)", e.Reason, e.Query)
	}
	return fmt.Sprintf("no data: %.0f requests in %s (need >= %d) (query: %s)",
		e.Requests, promDuration(e.Window), e.Need, e.Query)
}

// Is makes errors.Is(err, ErrNoData) true.
func (e *NoDataError) Is(target error) bool { return target == ErrNoData }

// Unit says how a measured value prints.
type Unit int

const (
	// Ratio prints as a percentage: 0.0231 is "2.31%".
	Ratio Unit = iota
	// Seconds prints as a duration: 0.375 is "375ms".
	Seconds
	// Plain prints the number as is.
	Plain
)

// Format prints v in the unit.
func (u Unit) Format(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprint(v)
	case u == Ratio:
		return fmt.Sprintf("%.2f%%", v*100)
	case u == Seconds:
		return time.Duration(v * float64(time.Second)).Round(time.Millisecond).String()
	default:
		return fmt.Sprintf("%g", v)
	}
}

// Measurement is one measured value with the evidence behind it.
type Measurement struct {
	Name   string        // "error rate", "latency p95"
	Query  string        // the PromQL that produced Value
	Window time.Duration // the range the query looked at
	Value  float64
	Unit   Unit
	// Requests in the window from RequestCountQuery: Prometheus's
	// increase(), extrapolated to the window's edges, so it can read a
	// little above the requests actually served.
	Requests float64
	At       time.Time // evaluation time of every query behind it
	// RequestCountQuery produced Requests.
	RequestCountQuery string
}

// String reads "error rate 2.31% (query: ..., window 5m, 1204 requests)".
func (m Measurement) String() string {
	return fmt.Sprintf("%s %s (query: %s, window %s, %.0f requests)",
		m.Name, m.Unit.Format(m.Value), m.Query, promDuration(m.Window), m.Requests)
}

// Rate is an error rate: the share of requests answered with a 5xx.
type Rate struct {
	Measurement
	Errors      float64 // 5xx requests in the window
	ErrorsQuery string
	// ByService is the requests each service served in the window
	// (ByServiceQuery); a service without a series is absent.
	ByService      map[string]float64
	ByServiceQuery string
}

// Under decides "error rate < threshold" from the counts, not the ratio:
// MET only when the 95% upper bound is under it (stats.UnderThreshold).
func (r Rate) Under(threshold float64) stats.Result {
	return stats.UnderThreshold(r.Errors, r.Requests, threshold)
}

// Over decides "error rate > threshold" (the rollback rule): it holds
// (Verdict MET) only when the 95% lower bound is over it.
func (r Rate) Over(threshold float64) stats.Result {
	return stats.OverThreshold(r.Errors, r.Requests, threshold)
}

// MissingServices names the services in want that served no request in
// the window: no data for that service, whatever the others show.
func (r Rate) MissingServices(want []string) []string {
	var out []string
	for _, s := range want {
		if r.ByService[s] <= 0 {
			out = append(out, s)
		}
	}
	return out
}

// PerService prints the requests per service: "backend-core 1204, data-service 310".
func (r Rate) PerService() string {
	names := make([]string, 0, len(r.ByService))
	for s := range r.ByService {
		names = append(names, s)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, s := range names {
		parts[i] = fmt.Sprintf("%s %.0f", s, r.ByService[s])
	}
	return strings.Join(parts, ", ")
}

// Latency is a latency quantile in seconds.
type Latency struct {
	Measurement
	Quantile float64
}

// Duration is the latency as a time.Duration.
func (l Latency) Duration() time.Duration { return time.Duration(l.Value * float64(time.Second)) }

// ErrorRate measures the share of 5xx answers among the requests the
// selector picks over window:
//
//	sum(rate(http_requests_total{status=~"5..",<sel>}[w])) / sum(rate(http_requests_total{<sel>}[w]))
//
// with the request count sum(increase(http_requests_total{<sel>}[w])) beside
// it. Fewer than minSamples requests is a *NoDataError (errors.Is ErrNoData),
// never a healthy zero.
func (c *Client) ErrorRate(ctx context.Context, sel string, window time.Duration, minSamples int) (Rate, error) {
	at := time.Now()
	r := Rate{Measurement: Measurement{
		Name:              "error rate",
		Query:             ErrorRatioExpr(sel, window),
		Window:            window,
		Unit:              Ratio,
		At:                at,
		RequestCountQuery: RequestCountExpr(sel, window),
	}, ErrorsQuery: ErrorCountExpr(sel, window)}

	n, err := c.count(ctx, r.RequestCountQuery, at)
	if err != nil {
		return r, err
	}
	r.Requests = n
	r.ByServiceQuery = RequestsByServiceExpr(sel, window)
	by, err := c.instantAt(ctx, r.ByServiceQuery, at)
	if err != nil {
		return r, err
	}
	r.ByService = by.By("service")
	if n < float64(minSamples) || n == 0 {
		return r, &NoDataError{Query: r.RequestCountQuery, Window: window, Requests: n, Need: minSamples}
	}
	v, err := c.one(ctx, r.Query, at, window, minSamples, n)
	if err != nil {
		return r, err
	}
	r.Value = v
	if r.Errors, err = c.count(ctx, r.ErrorsQuery, at); err != nil {
		return r, err
	}
	return r, nil
}

// SamplesPoll is how often WaitForSamples measures again.
const SamplesPoll = time.Second

// WaitForSamples measures ErrorRate again until the window holds
// minSamples requests, at most timeout: Prometheus counts a request at its
// next scrape, and there is no event to wait on. Any error other than too
// few requests stops it at once. On timeout the error names what it waited
// for and the requests last counted, and still matches ErrNoData.
func (c *Client) WaitForSamples(ctx context.Context, sel string, window time.Duration, minSamples int, timeout time.Duration) (Rate, error) {
	var rate Rate
	var noData error
	name := fmt.Sprintf("Prometheus to count at least %d requests in %s", minSamples, window)
	err := wait.Poll(ctx, name, SamplesPoll, timeout, func(ctx context.Context) (bool, string, error) {
		r, err := c.ErrorRate(ctx, sel, window, minSamples)
		if err != nil && ctx.Err() != nil {
			return false, "", nil // cut short by the deadline: reported as the timeout
		}
		if errors.Is(err, ErrNoData) {
			rate, noData = r, err
			return false, fmt.Sprintf("%.0f requests (%s)", r.Requests, r.RequestCountQuery), nil
		}
		rate = r
		return true, "", err
	})
	var te *wait.TimeoutError
	if errors.As(err, &te) && noData != nil {
		return rate, fmt.Errorf("%w (%w)", err, noData)
	}
	return rate, err
}

// LatencyP95 measures the 95th percentile of request latency over window
// from the http_request_duration_seconds histogram. Fewer than minSamples
// observed requests (at least 1) is a *NoDataError.
func (c *Client) LatencyP95(ctx context.Context, sel string, window time.Duration, minSamples int) (Latency, error) {
	return c.LatencyQuantile(ctx, 0.95, sel, window, minSamples)
}

// LatencyQuantile is LatencyP95 for any quantile q in (0, 1).
func (c *Client) LatencyQuantile(ctx context.Context, q float64, sel string, window time.Duration, minSamples int) (Latency, error) {
	at := time.Now()
	l := Latency{Quantile: q, Measurement: Measurement{
		Name:              fmt.Sprintf("latency p%g", q*100),
		Query:             QuantileExpr(q, sel, window),
		Window:            window,
		Unit:              Seconds,
		At:                at,
		RequestCountQuery: LatencyCountExpr(sel, window),
	}}
	n, err := c.count(ctx, l.RequestCountQuery, at)
	if err != nil {
		return l, err
	}
	l.Requests = n
	if n < float64(minSamples) || n == 0 {
		return l, &NoDataError{Query: l.RequestCountQuery, Window: window, Requests: n, Need: minSamples}
	}
	v, err := c.one(ctx, l.Query, at, window, minSamples, n)
	if err != nil {
		return l, err
	}
	l.Value = v
	return l, nil
}

// Counters are counter series' values at one moment, by label set.
type Counters map[string]float64

// Counters reads a selector of counters (not summed: a sum hides which
// process restarted) now. No series is an empty Counters.
func (c *Client) Counters(ctx context.Context, query string) (Counters, error) {
	res, err := c.Instant(ctx, query)
	if err != nil {
		return nil, err
	}
	out := Counters{}
	for _, s := range res.Samples {
		if !math.IsNaN(s.Value) {
			out[labelString(s.Labels)] = s.Value
		}
	}
	return out, nil
}

// Since is how much the counters rose after before, series by series: a
// series lower than before restarted (its process did) and rose by all it
// holds, a new one by all it holds; one gone rose by nothing.
func (now Counters) Since(before Counters) float64 {
	total := 0.0
	for k, v := range now {
		if b, ok := before[k]; ok && v >= b {
			total += v - b
		} else {
			total += v
		}
	}
	return total
}

// Total is the sum of the counters.
func (now Counters) Total() float64 {
	total := 0.0
	for _, v := range now {
		total += v
	}
	return total
}

// count reads a sum(increase(...)) query: no series means zero.
func (c *Client) count(ctx context.Context, query string, at time.Time) (float64, error) {
	res, err := c.instantAt(ctx, query, at)
	if err != nil {
		return 0, err
	}
	v, ok := res.Value()
	if !ok || math.IsNaN(v) {
		return 0, nil
	}
	return v, nil
}

// one reads a single-valued query that must have a number.
func (c *Client) one(ctx context.Context, query string, at time.Time, window time.Duration, need int, requests float64) (float64, error) {
	res, err := c.instantAt(ctx, query, at)
	if err != nil {
		return 0, err
	}
	v, ok := res.Value()
	if !ok || math.IsNaN(v) {
		return 0, &NoDataError{Query: query, Window: window, Requests: requests, Need: need,
			Reason: fmt.Sprintf("%d series (want 1 number) though %.0f requests were counted in %s", len(res.Samples), requests, promDuration(window))}
	}
	return v, nil
}

// ThresholdError is a measurement on the wrong side of its threshold.
type ThresholdError struct {
	Measurement
	Threshold float64
	// Strict: the value had to be below the threshold (the runbook's "<");
	// otherwise at most the threshold (the rollback trigger's "> 1%").
	Strict bool
}

func (e *ThresholdError) Error() string {
	rel := "above"
	if e.Value == e.Threshold {
		rel = "at (must be below)"
	}
	return fmt.Sprintf("%s %s threshold %s", e.Measurement, rel, e.Unit.Format(e.Threshold))
}

// CheckBelow passes when m.Value < threshold (the runbook's "Error rate <
// 0.1%", "p95 < 200ms"). NaN never passes.
func CheckBelow(m Measurement, threshold float64) error {
	if math.IsNaN(m.Value) {
		return &NoDataError{Query: m.Query, Reason: "the value is NaN"}
	}
	if m.Value < threshold {
		return nil
	}
	return &ThresholdError{Measurement: m, Threshold: threshold, Strict: true}
}

// CheckAtMost passes when m.Value <= threshold: the rollback trigger
// "> 1% error rate" is CheckAtMost(rate, 0.01) failing. NaN never passes.
func CheckAtMost(m Measurement, threshold float64) error {
	if math.IsNaN(m.Value) {
		return &NoDataError{Query: m.Query, Reason: "the value is NaN"}
	}
	if m.Value <= threshold {
		return nil
	}
	return &ThresholdError{Measurement: m, Threshold: threshold}
}
