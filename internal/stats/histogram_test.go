package stats

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// bounds are the reference services' latency buckets
// (fixtures/granter/metrics.go).
var bounds = []float64{.005, .01, .025, .05, .1, .2, .25, .3, .5, 1, 2.5, 5, 10}

// histogram builds cumulative buckets from the requests at or below each
// bound (le) and the total (+Inf).
func histogram(le map[float64]float64, total float64) []Bucket {
	var bs []Bucket
	var c float64
	for _, b := range bounds {
		if v, ok := le[b]; ok {
			c = v
		}
		bs = append(bs, Bucket{UpperBound: b, Count: c})
	}
	return append(bs, Bucket{UpperBound: math.Inf(1), Count: total})
}

func TestHistogramQuantile(t *testing.T) {
	cases := []struct {
		name                    string
		buckets                 []Bucket
		value, lower, upper, rs float64
		text                    string
	}{
		{"interpolated inside its bucket", histogram(map[float64]float64{.05: 500, .1: 900, .2: 970, .25: 985, .3: 1000}, 1000),
			0.1 + 0.1*50/70, 0.1, 0.2, 0.1, "p95 171.4ms (1,000 requests; bucket 100ms–200ms)"},
		{"in the first bucket, from 0", histogram(map[float64]float64{.005: 1000}, 1000),
			0.005 * 0.95, 0, 0.005, 0.005, "p95 4.8ms (1,000 requests; bucket 0s–5ms)"},
		{"above the largest bucket", histogram(map[float64]float64{.1: 500, 10: 900}, 1000),
			10, 10, math.Inf(1), math.Inf(1), "p95 10s (1,000 requests; bucket above 10s, the largest bucket: a lower limit)"},
		{"exactly the minimum count", histogram(map[float64]float64{.1: 59}, 59),
			0.05 + 0.05*(0.95*59)/59, 0.05, 0.1, 0.05, "p95 97.5ms (59 requests; bucket 50ms–100ms)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := HistogramQuantile(0.95, c.buckets)
			if err != nil {
				t.Fatalf("HistogramQuantile: %v", err)
			}
			if math.Abs(q.Value-c.value) > 1e-12 || q.Lower != c.lower || q.Upper != c.upper || q.Resolution != c.rs {
				t.Errorf("got value %g in [%g, %g] (resolution %g), want %g in [%g, %g] (resolution %g)",
					q.Value, q.Lower, q.Upper, q.Resolution, c.value, c.lower, c.upper, c.rs)
			}
			if q.String() != c.text {
				t.Errorf("String():\n got %q\nwant %q", q.String(), c.text)
			}
		})
	}
}

// Input as Prometheus returns it (unsorted, racing scrapes), too few
// requests, and buckets no quantile can be read from.
func TestHistogramQuantileInput(t *testing.T) {
	// Unsorted, and a bucket scraped a moment before its neighbour.
	raced := []Bucket{{math.Inf(1), 100}, {0.2, 100}, {0.1, 96}, {0.05, 10}, {0.025, 11}}
	q, err := HistogramQuantile(0.95, raced)
	if err != nil {
		t.Fatalf("HistogramQuantile: %v", err)
	}
	if want := 0.05 + 0.05*(95-11)/(96-11.0); math.Abs(q.Value-want) > 1e-12 || q.Count != 100 {
		t.Errorf("got %s, want %g from 100 requests (buckets sorted, counts made monotonic)", q, want)
	}

	q, err = HistogramQuantile(0.95, histogram(map[float64]float64{.1: 25}, 25))
	var few *TooFewError
	if !errors.Is(err, ErrTooFew) || !errors.As(err, &few) || few.Need != 59 || few.Count != 25 {
		t.Fatalf("25 requests: want a TooFewError needing 59, got %v", err)
	}
	if q.Count != 25 || q.MinCount != 59 || !math.IsNaN(q.Value) {
		t.Errorf("25 requests: want count 25, min 59, no value; got %+v", q)
	}
	if want := "p95 needs at least 59 requests, saw 25"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	if _, err := HistogramQuantile(0.95, histogram(nil, 0)); !errors.Is(err, ErrTooFew) {
		t.Errorf("no requests: want ErrTooFew, got %v", err)
	}

	for name, bs := range map[string][]Bucket{
		"no le=\"+Inf\" bucket": {{0.1, 10}, {0.2, 100}},
		"only the +Inf bucket":  {{math.Inf(1), 100}},
		"bucket le=0.1 twice":   {{0.1, 10}, {0.1, 10}, {math.Inf(1), 100}},
		"not a count":           {{0.1, math.NaN()}, {math.Inf(1), 100}},
	} {
		if _, err := HistogramQuantile(0.95, bs); err == nil || errors.Is(err, ErrTooFew) || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: want an error saying %q, got %v", bs, name, err)
		}
	}
	if _, err := HistogramQuantile(1, histogram(nil, 100)); err == nil {
		t.Error("quantile 1: want an error")
	}
}

func TestQuantileUnder(t *testing.T) {
	cases := []struct {
		name      string
		buckets   []Bucket
		threshold float64
		want      Verdict
		needed    int64 // -2: any positive
		text      string
	}{
		{"3% slower than 200ms: p95 < 200ms", histogram(map[float64]float64{.1: 900, .2: 970}, 1000), 0.2, Met, 0,
			"requests slower than 200ms 3.00% (30/1,000), 95% upper bound 4.05% < 5%: MET"},
		{"8% slower than 200ms: p95 ≥ 200ms", histogram(map[float64]float64{.1: 900, .2: 920}, 1000), 0.2, Breached, 0,
			"requests slower than 200ms 8.00% (80/1,000), 95% lower bound 6.63% > 5%: BREACHED"},
		{"exactly 5% slower: no sample decides", histogram(map[float64]float64{.2: 950}, 1000), 0.2, Inconclusive, -1, ""},
		{"25 requests, all fast: 34 more", histogram(map[float64]float64{.05: 25}, 25), 0.2, Inconclusive, 34,
			"requests slower than 200ms 0.00% (0/25), 95% upper bound 11.29% ≥ 5%: INCONCLUSIVE, ~34 more requests needed"},
		{"150ms inside the bucket holding p95", histogram(map[float64]float64{.1: 900, .2: 970}, 1000), 0.15, Inconclusive, -1,
			"requests slower than 150ms: 10.00% of requests are slower than 100ms and 3.00% slower than 200ms: 150ms lies inside the bucket that holds the p95"},
		{"150ms between buckets, 2% slower than 100ms", histogram(map[float64]float64{.1: 980, .2: 1000}, 1000), 0.15, Met, 0,
			"requests slower than 100ms 2.00% (20/1,000)"},
		{"150ms between buckets, 9% slower than 200ms", histogram(map[float64]float64{.1: 880, .2: 910}, 1000), 0.15, Breached, 0,
			"requests slower than 200ms 9.00% (90/1,000)"},
		{"4.5% slower than 200ms in 1,000: more traffic", histogram(map[float64]float64{.2: 955}, 1000), 0.2, Inconclusive, -2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := QuantileUnder(0.95, c.buckets, c.threshold)
			if err != nil {
				t.Fatalf("QuantileUnder: %v", err)
			}
			if r.Verdict != c.want || (c.needed == -2 && r.Needed <= 0) || (c.needed != -2 && r.Needed != c.needed) {
				t.Errorf("got %s with Needed %d, want %s with Needed %d: %s", r.Verdict, r.Needed, c.want, c.needed, r)
			}
			if !strings.HasPrefix(r.String(), c.text) {
				t.Errorf("String():\n got %q\nwant %q", r.String(), c.text)
			}
		})
	}
	if _, err := QuantileUnder(0.95, []Bucket{{0.2, 10}}, 0.2); err == nil {
		t.Error("no +Inf bucket: want an error")
	}
}
