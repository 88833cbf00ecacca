package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// DefaultTimeout bounds each call to Prometheus unless WithTimeout says
// otherwise.
const DefaultTimeout = 10 * time.Second

// Client reads one Prometheus server through its HTTP API.
type Client struct {
	url     string
	api     v1.API
	timeout time.Duration
}

// Option configures a Client.
type Option func(*options)

type options struct {
	timeout time.Duration
	http    *http.Client
}

// WithTimeout bounds each call (default DefaultTimeout). The caller's context
// still applies when it ends sooner.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHTTPClient sets the HTTP client (default: client_golang's round
// tripper, no client-level timeout; calls are bounded by WithTimeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.http = c } }

// New returns a Client for the Prometheus at url (http://host:port, with a
// path prefix if Prometheus serves under one).
func New(url string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("metrics: timeout must be positive, got %s", o.timeout)
	}
	c, err := api.NewClient(api.Config{Address: url, Client: o.http})
	if err != nil {
		return nil, fmt.Errorf("metrics: prometheus url %q: %w", url, err)
	}
	return &Client{url: url, api: v1.NewAPI(c), timeout: o.timeout}, nil
}

// URL is the Prometheus the client reads.
func (c *Client) URL() string { return c.url }

func (c *Client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// QueryError is a failed call to Prometheus: the query (or API endpoint),
// the server, and why.
type QueryError struct {
	URL   string
	Query string
	Err   error
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("prometheus %s: query %s: %v", e.URL, e.Query, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// Sample is one series' value at one time.
type Sample struct {
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// Result is an instant query's answer: the query, when it was evaluated, and
// one sample per series (a scalar answer is one sample without labels).
type Result struct {
	Query    string
	Time     time.Time
	Samples  []Sample
	Warnings []string
}

// Value returns the single value of a one-series result; ok is false when
// the result has no series or more than one.
func (r Result) Value() (v float64, ok bool) {
	if len(r.Samples) != 1 {
		return 0, false
	}
	return r.Samples[0].Value, true
}

// By indexes the samples by one label's value (e.g. "service").
func (r Result) By(label string) map[string]float64 {
	m := make(map[string]float64, len(r.Samples))
	for _, s := range r.Samples {
		m[s.Labels[label]] = s.Value
	}
	return m
}

// String prints the query and its samples, for logs and failure messages.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s:", r.Query, r.Time.Format(time.RFC3339))
	if len(r.Samples) == 0 {
		b.WriteString(" no series")
	}
	for _, s := range r.Samples {
		fmt.Fprintf(&b, " %s=%g", labelString(s.Labels), s.Value)
	}
	return b.String()
}

// Point is one value of a range series.
type Point struct {
	Time  time.Time
	Value float64
}

// RangeSeries is one series of a range query.
type RangeSeries struct {
	Labels map[string]string
	Points []Point
}

// RangeResult is a range query's answer.
type RangeResult struct {
	Query      string
	Start, End time.Time
	Step       time.Duration
	Series     []RangeSeries
	Warnings   []string
}

// Instant evaluates query now. An empty result is not an error here; the
// measurement helpers (ErrorRate, LatencyP95, Series) decide what empty means.
func (c *Client) Instant(ctx context.Context, query string) (Result, error) {
	return c.instantAt(ctx, query, time.Now())
}

func (c *Client) instantAt(ctx context.Context, query string, at time.Time) (Result, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	val, warn, _, err := c.api.Query(ctx, query, at, v1.WithTimeout(c.timeout))
	res := Result{Query: query, Time: at, Warnings: warn}
	if err != nil {
		return res, &QueryError{URL: c.url, Query: query, Err: explain(err)}
	}
	switch v := val.(type) {
	case model.Vector:
		for _, s := range v {
			res.Samples = append(res.Samples, Sample{Labels: labels(s.Metric), Value: float64(s.Value), Time: s.Timestamp.Time()})
		}
	case *model.Scalar:
		res.Samples = []Sample{{Labels: map[string]string{}, Value: float64(v.Value), Time: v.Timestamp.Time()}}
	default:
		return res, &QueryError{URL: c.url, Query: query, Err: fmt.Errorf("want an instant vector or scalar, got %s", val.Type())}
	}
	sort.Slice(res.Samples, func(i, j int) bool {
		return labelString(res.Samples[i].Labels) < labelString(res.Samples[j].Labels)
	})
	return res, nil
}

// Range evaluates query from start to end every step.
func (c *Client) Range(ctx context.Context, query string, start, end time.Time, step time.Duration) (RangeResult, error) {
	res := RangeResult{Query: query, Start: start, End: end, Step: step}
	if step <= 0 || end.Before(start) {
		return res, &QueryError{URL: c.url, Query: query, Err: fmt.Errorf("bad range: start %s end %s step %s", start.Format(time.RFC3339), end.Format(time.RFC3339), step)}
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	val, warn, _, err := c.api.QueryRange(ctx, query, v1.Range{Start: start, End: end, Step: step}, v1.WithTimeout(c.timeout))
	res.Warnings = warn
	if err != nil {
		return res, &QueryError{URL: c.url, Query: query, Err: explain(err)}
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return res, &QueryError{URL: c.url, Query: query, Err: fmt.Errorf("want a range vector, got %s", val.Type())}
	}
	for _, s := range m {
		rs := RangeSeries{Labels: labels(s.Metric)}
		for _, p := range s.Values {
			rs.Points = append(rs.Points, Point{Time: p.Timestamp.Time(), Value: float64(p.Value)})
		}
		res.Series = append(res.Series, rs)
	}
	return res, nil
}

// Series evaluates query now and requires at least one series with a
// number: it is the generic reader for CPU and memory style metrics
// (CPUExpr, MemoryExpr). No series, or only NaN values, is ErrNoData.
func (c *Client) Series(ctx context.Context, query string) (Result, error) {
	res, err := c.Instant(ctx, query)
	if err != nil {
		return res, err
	}
	for _, s := range res.Samples {
		if !math.IsNaN(s.Value) {
			return res, nil
		}
	}
	return res, &NoDataError{Query: query, Reason: "no series"}
}

// explain adds what to do to the API errors an on-call engineer sees.
func explain(err error) error {
	var apiErr *v1.Error
	if errors.As(err, &apiErr) && apiErr.Type == v1.ErrBadData {
		return fmt.Errorf("%w (the query does not parse: check the selector)", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (prometheus did not answer in time)", err)
	}
	return err
}

func labels(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
