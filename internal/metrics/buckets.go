package metrics

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/granter/runbook/internal/stats"
)

// Histograms are the request-latency buckets of each service and of each
// of its routes over a window (LatencyBucketsExpr), for
// stats.HistogramQuantile and stats.QuantileUnder: a p95 per service and
// route with its bucket resolution, and "p95 < limit" decided from the
// counts. A service's histogram is the sum of its routes'. A service
// without series is absent.
type Histograms struct {
	Query   string
	Window  time.Duration
	Service map[string][]stats.Bucket
	// Route holds each service's routes: Route[service][route].
	Route map[string]map[string][]stats.Bucket
}

// LatencyHistograms reads the request-latency buckets of every service and
// route sel picks over window.
func (c *Client) LatencyHistograms(ctx context.Context, sel string, window time.Duration) (Histograms, error) {
	h := Histograms{Query: LatencyBucketsExpr(sel, window), Window: window,
		Service: map[string][]stats.Bucket{}, Route: map[string]map[string][]stats.Bucket{}}
	res, err := c.Instant(ctx, h.Query)
	if err != nil {
		return h, err
	}
	sums := map[string]map[float64]float64{}
	for _, s := range res.Samples {
		le, err := strconv.ParseFloat(s.Labels["le"], 64) // "+Inf" included
		if err != nil || math.IsNaN(le) {
			continue // not a bucket series
		}
		svc, route := s.Labels["service"], s.Labels["route"]
		if h.Route[svc] == nil {
			h.Route[svc], sums[svc] = map[string][]stats.Bucket{}, map[float64]float64{}
		}
		h.Route[svc][route] = append(h.Route[svc][route], stats.Bucket{UpperBound: le, Count: s.Value})
		sums[svc][le] += s.Value
	}
	for svc, byLe := range sums {
		for le, n := range byLe {
			h.Service[svc] = append(h.Service[svc], stats.Bucket{UpperBound: le, Count: n})
		}
	}
	return h, nil
}
