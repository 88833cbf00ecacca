package metrics

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/granter/runbook/internal/stats"
)

// Histograms are the request-latency buckets of each service over a window
// (LatencyBucketsExpr), for stats.HistogramQuantile and stats.QuantileUnder:
// a p95 per service with its bucket resolution, and "p95 < limit" decided
// from the counts. A service without series is absent.
type Histograms struct {
	Query   string
	Window  time.Duration
	Service map[string][]stats.Bucket
}

// LatencyHistograms reads the request-latency buckets of every service sel
// picks over window.
func (c *Client) LatencyHistograms(ctx context.Context, sel string, window time.Duration) (Histograms, error) {
	h := Histograms{Query: LatencyBucketsExpr(sel, window), Window: window, Service: map[string][]stats.Bucket{}}
	res, err := c.Instant(ctx, h.Query)
	if err != nil {
		return h, err
	}
	for _, s := range res.Samples {
		le, err := strconv.ParseFloat(s.Labels["le"], 64) // "+Inf" included
		if err != nil || math.IsNaN(le) {
			continue // not a bucket series
		}
		svc := s.Labels["service"]
		h.Service[svc] = append(h.Service[svc], stats.Bucket{UpperBound: le, Count: s.Value})
	}
	return h, nil
}
