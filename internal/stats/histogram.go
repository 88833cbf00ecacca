package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// ErrTooFew matches a quantile refused for too few observations
// (errors.Is). It is "no data yet", never a pass.
var ErrTooFew = errors.New("too few observations")

// Bucket is one bucket of a Prometheus histogram: Count observations at or
// below UpperBound (the le label), cumulative as Prometheus exposes them.
// Counts are float64: they come from rate() or increase().
type Bucket struct {
	UpperBound float64
	Count      float64
}

// Quantile is a quantile read from a histogram, with what it rests on.
// Values are in the histogram's unit: seconds for every latency histogram
// here (Prometheus's convention), and String prints them as durations.
type Quantile struct {
	Q     float64 // 0.95 for p95
	Value float64 // interpolated as histogram_quantile does
	Count float64 // observations in the histogram (its +Inf bucket)
	// Lower and Upper bound the bucket the quantile fell in; the true
	// quantile lies between them, wherever the interpolation put Value.
	Lower, Upper float64
	// Resolution is Upper-Lower: how finely the histogram can place the
	// quantile. +Inf when it fell in the +Inf bucket: Value is then the
	// largest finite bound and only a lower limit.
	Resolution float64
	MinCount   int64 // MinQuantileCount(Q)
}

// MinQuantileCount is the fewest observations from which a q-quantile is
// read: MinSample(1-q), 59 for p95. Below it not even the slowest request
// observed is a 95% upper confidence bound on the p95 (Wilks: with n
// observations the maximum exceeds the p95 with probability 1-0.95^n, which
// reaches 95% at n = 59), so no claim "p95 < X" can be shown at 95% by any
// method; it is the same rule as MinSample for a rate, the rate being the
// share of requests slower than the quantile. It is a floor, not a promise
// of precision: QuantileUnder says when the counts decide a threshold.
func MinQuantileCount(q float64) int64 { return MinSample(1 - q) }

// TooFewError is a quantile asked of fewer than MinQuantileCount
// observations.
type TooFewError struct {
	Q     float64
	Count float64 // observations seen
	Need  int64
}

func (e *TooFewError) Error() string {
	return fmt.Sprintf("%s needs at least %s requests, saw %s (below that not even the slowest request bounds it at 95%% confidence)",
		quantileName(e.Q), count(float64(e.Need)), count(e.Count))
}

// Is makes errors.Is(err, ErrTooFew) true.
func (e *TooFewError) Is(target error) bool { return target == ErrTooFew }

// HistogramQuantile reads the q-quantile (0 < q < 1) from cumulative
// buckets as Prometheus's histogram_quantile does: buckets sorted by upper
// bound, counts made monotonic (a scrape can race the buckets), the bucket
// holding rank q*count found, the value interpolated linearly inside it
// from its lower bound (0 for the first bucket); in the +Inf bucket it is
// the largest finite bound. The buckets must include +Inf.
//
// Fewer than MinQuantileCount(q) observations is a *TooFewError (errors.Is
// ErrTooFew), with Count and MinCount set in the Quantile; malformed buckets
// (no +Inf bucket, no finite bucket, NaN, a bound twice) are other errors.
func HistogramQuantile(q float64, buckets []Bucket) (Quantile, error) {
	res := Quantile{Q: q, Value: math.NaN(), Lower: math.NaN(), Upper: math.NaN(), Resolution: math.NaN(), MinCount: MinQuantileCount(q)}
	if !(q > 0 && q < 1) {
		return res, fmt.Errorf("stats: quantile %g is not in (0, 1)", q)
	}
	bs, err := sortedBuckets(buckets)
	if err != nil {
		return res, err
	}
	res.Count = bs[len(bs)-1].Count
	if res.Count < float64(res.MinCount) || res.Count == 0 {
		return res, &TooFewError{Q: q, Count: res.Count, Need: res.MinCount}
	}
	rank := q * res.Count
	b, _ := slices.BinarySearchFunc(bs, rank, func(x Bucket, r float64) int {
		if x.Count < r {
			return -1
		}
		return 1
	})
	switch {
	case b == len(bs)-1:
		res.Value, res.Lower, res.Upper = bs[b-1].UpperBound, bs[b-1].UpperBound, math.Inf(1)
	case b == 0 && bs[0].UpperBound <= 0:
		res.Value, res.Lower, res.Upper = bs[0].UpperBound, math.Inf(-1), bs[0].UpperBound
	default:
		start, below := 0.0, 0.0
		if b > 0 {
			start, below = bs[b-1].UpperBound, bs[b-1].Count
		}
		end := bs[b].UpperBound
		res.Value = start + (end-start)*(rank-below)/(bs[b].Count-below)
		res.Lower, res.Upper = start, end
	}
	res.Resolution = res.Upper - res.Lower
	return res, nil
}

// sortedBuckets checks the buckets and returns a sorted, monotonic copy.
func sortedBuckets(buckets []Bucket) ([]Bucket, error) {
	bs := slices.Clone(buckets)
	slices.SortFunc(bs, func(a, b Bucket) int { return cmpFloat(a.UpperBound, b.UpperBound) })
	for i, x := range bs {
		switch {
		case math.IsNaN(x.UpperBound) || math.IsNaN(x.Count) || math.IsInf(x.Count, 0) || x.Count < 0:
			return nil, fmt.Errorf("stats: histogram bucket le=%g holds %g: not a count", x.UpperBound, x.Count)
		case i > 0 && x.UpperBound == bs[i-1].UpperBound:
			return nil, fmt.Errorf("stats: histogram has bucket le=%g twice: sum the series by le first", x.UpperBound)
		case i > 0 && x.Count < bs[i-1].Count:
			bs[i].Count = bs[i-1].Count // as histogram_quantile: a scrape raced the buckets
		}
	}
	switch {
	case len(bs) == 0 || !math.IsInf(bs[len(bs)-1].UpperBound, 1):
		return nil, errors.New("stats: histogram has no le=\"+Inf\" bucket, so its count is unknown")
	case len(bs) < 2:
		return nil, errors.New("stats: histogram has only the +Inf bucket: no quantile can be placed")
	}
	return bs, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// QuantileUnder decides "q-quantile < limit" (the runbook's "API response
// time: < 200ms (p95)") from the same buckets: the quantile is under limit
// when fewer than a share 1-q of requests are slower than it, so the share
// of slow requests is a rate, decided with the bounds of UnderThreshold
// against 1-q. The histogram counts slow requests only at its bucket bounds:
// the claim is MET when the requests above the largest bound at or below
// limit (a superset of the slow ones) are shown under 1-q, BREACHED when the
// requests above the smallest bound at or above limit (all of them slow) are
// shown over 1-q, INCONCLUSIVE otherwise. With a bucket bound at limit both
// are the same count; the Result's Name says which bound was counted.
//
// When INCONCLUSIVE, Needed is that of the side the observed shares lean
// to. When limit lies inside the bucket that holds the quantile, no traffic
// can tell: Needed is -1, Reason says so, Errors and Rate are NaN (no count
// of the requests slower than limit exists) and Lo..Hi spans both sides.
func QuantileUnder(q float64, buckets []Bucket, limit float64) (Result, error) {
	name := "requests slower than " + seconds(limit)
	if !(q > 0 && q < 1) {
		return Result{Name: name, Needed: -1}, fmt.Errorf("stats: quantile %g is not in (0, 1)", q)
	}
	bs, err := sortedBuckets(buckets)
	if err != nil {
		return Result{Name: name, Needed: -1}, err
	}
	total := bs[len(bs)-1].Count
	// The requests above the bucket bounds on either side of limit: at
	// least every slow request, and only slow ones.
	maxBound, slowMax := 0.0, total
	minBound, slowMin := math.Inf(1), 0.0
	for _, b := range bs {
		if b.UpperBound <= limit {
			maxBound, slowMax = b.UpperBound, total-b.Count
		}
	}
	for _, b := range slices.Backward(bs) {
		if b.UpperBound >= limit {
			minBound, slowMin = b.UpperBound, total-b.Count
		}
	}
	upper := decide("requests slower than "+seconds(maxBound), Under, slowMax, total, 1-q)
	lower := decide("requests slower than "+seconds(minBound), Under, slowMin, total, 1-q)
	switch {
	case upper.Verdict == Met:
		return upper, nil
	case lower.Verdict == Breached:
		return lower, nil
	case upper.Rate < 1-q:
		return upper, nil
	case lower.Rate > 1-q:
		return lower, nil
	}
	return Result{
		Name: name, Claim: Under, Errors: math.NaN(), Total: total, Rate: math.NaN(),
		Lo: lower.Lo, Hi: upper.Hi, Threshold: 1 - q, MinSample: upper.MinSample, Verdict: Inconclusive, Needed: -1,
		Reason: fmt.Sprintf("%s of requests are slower than %s and %s slower than %s: %s lies inside the bucket that holds the %s, so no amount of traffic tells which side of it the %s is; a bucket at %s would",
			percent(upper.Rate), seconds(maxBound), percent(lower.Rate), seconds(minBound), seconds(limit), quantileName(q), quantileName(q), seconds(limit)),
	}, nil
}

// String reads "p95 182ms (1,204 requests; bucket 100ms–200ms)".
func (q Quantile) String() string {
	name := quantileName(q.Q)
	if math.IsNaN(q.Value) {
		return fmt.Sprintf("%s: none (%s requests, need %s)", name, count(q.Count), count(float64(q.MinCount)))
	}
	bucket := seconds(q.Lower) + "–" + seconds(q.Upper)
	if math.IsInf(q.Upper, 1) {
		bucket = "above " + seconds(q.Lower) + ", the largest bucket: a lower limit"
	}
	return fmt.Sprintf("%s %s (%s requests; bucket %s)", name, seconds(q.Value), count(q.Count), bucket)
}

// quantileName is "p95" for 0.95.
func quantileName(q float64) string { return "p" + strconv.FormatFloat(q*100, 'g', 6, 64) }

// seconds prints seconds as a duration: 0.2 is "200ms".
func seconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return strconv.FormatFloat(s, 'g', -1, 64)
	}
	d := time.Duration(s * float64(time.Second))
	if d >= time.Millisecond {
		d = d.Round(100 * time.Microsecond)
	}
	return d.String()
}
