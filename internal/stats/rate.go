package stats

import (
	"fmt"
	"math"
)

// Confidence is the one-sided confidence of every bound: a true rate above
// the upper bound would give so few errors at most 5% of the time, and one
// below the lower bound so many at most 5% of the time. Each decision is one
// sided ("is the rate under 0.1%?"), so each uses one bound at 95%; the two
// bounds together are a 90% two-sided interval.
const Confidence = 0.95

// MaxSample caps the search for Result.Needed: a ratio that neither this
// many requests nor ten times those observed would separate from the
// threshold is reported as not decidable at that ratio (Needed -1).
const MaxSample = 10_000_000

// searchLimit is the largest sample Needed looks at for n observed.
func searchLimit(n float64) int64 { return max(MaxSample, 10*int64(math.Ceil(n))) }

// Verdict is what the counts show about a claim. The zero value is
// Inconclusive, so a Result never passes by default.
type Verdict int

const (
	// Inconclusive: the bounds straddle the threshold; more traffic is needed.
	Inconclusive Verdict = iota
	// Met: the claim holds at 95% confidence.
	Met
	// Breached: the opposite of the claim holds at 95% confidence.
	Breached
)

func (v Verdict) String() string {
	switch v {
	case Met:
		return "MET"
	case Breached:
		return "BREACHED"
	}
	return "INCONCLUSIVE"
}

// Claim is the side of the threshold a Result tests.
type Claim int

const (
	// Under: "rate < threshold" (Step 4.5, the monitoring gates).
	Under Claim = iota
	// Over: "rate > threshold" (the rollback rule).
	Over
)

// Result is a claim about a rate decided from its counts.
type Result struct {
	Name      string  // what is counted: "error rate"
	Claim     Claim   // Under: rate < Threshold; Over: rate > Threshold
	Errors    float64 // observed events (5xx answers)
	Total     float64 // observed requests
	Rate      float64 // Errors/Total; 0 when Total is 0
	Lo, Hi    float64 // one-sided 95% Clopper–Pearson bounds (Bound)
	Threshold float64 // a ratio: 0.001 is 0.1%
	// MinSample is the smallest number of requests that, with no error at
	// all, shows a rate under Threshold: MinSample(Threshold).
	MinSample int64
	Verdict   Verdict
	// Needed is how many more requests, at the observed ratio, would decide
	// the claim either way: 0 when decided, -1 when no sample up to
	// MaxSample (or ten times Total) would, the observed ratio being too
	// close to the threshold, or when Reason is set.
	Needed int64
	// Reason says why the claim cannot be decided whatever the traffic:
	// counts not usable (negative, NaN, more errors than requests), a
	// threshold outside (0, 1), a histogram too coarse (QuantileUnder);
	// empty otherwise.
	Reason string
}

// Bound returns the one-sided 95% Clopper–Pearson bounds on a rate observed
// as errors out of total: lo is the rate that gives at least this many
// errors with probability 5%, hi the rate that gives at most this many with
// probability 5%, both from the binomial distribution through the
// regularized incomplete beta function (no normal approximation, so it holds
// for 0 errors and small samples: 0 of n gives hi = 1-0.05^(1/n), about 3/n).
//
// The counts are float64 because Prometheus's increase() extrapolates to
// the window's edges and returns fractions; they are used as they are (the
// beta form is defined for real counts). Counts that are not usable (NaN,
// negative, errors > total) and total 0 give (0, 1): nothing is known.
func Bound(errors, total float64) (lo, hi float64) {
	return boundAt(errors, total, 1-Confidence)
}

// boundAt is Bound with each tail's probability alpha.
func boundAt(x, n, alpha float64) (lo, hi float64) {
	if countsProblem(x, n) != "" || n == 0 {
		return 0, 1
	}
	lo, hi = 0, 1
	if x > 0 {
		lo = betaQuantile(x, n-x+1, alpha)
	}
	if x < n {
		hi = betaQuantile(x+1, n-x, 1-alpha)
	}
	return lo, hi
}

// MinSample is the smallest number of requests that can show a rate under
// threshold: with no error in n requests the upper bound is 1-0.05^(1/n),
// under threshold once n > ln(0.05)/ln(1-threshold), about 3/threshold
// (2,995 for 0.1%, 299 for 1%, 59 for 5%). It is -1 for a threshold outside
// (0, 1).
func MinSample(threshold float64) int64 {
	if !(threshold > 0 && threshold < 1) {
		return -1
	}
	return int64(math.Floor(math.Log(1-Confidence)/math.Log1p(-threshold))) + 1
}

// UnderThreshold decides "rate < threshold" from errors out of total
// requests: MET when the 95% upper bound is under threshold, BREACHED when
// the 95% lower bound is over it, INCONCLUSIVE otherwise (with Needed). A
// rate whose bounds touch the threshold exactly is INCONCLUSIVE.
func UnderThreshold(errors, total, threshold float64) Result {
	return decide("error rate", Under, errors, total, threshold)
}

// OverThreshold decides "rate > threshold", the rollback rule ("> 1% error
// rate"): MET, and the rule fires, only when the 95% lower bound is over
// threshold; BREACHED when the 95% upper bound is under it (the rate is
// shown to be under the rule's threshold); INCONCLUSIVE otherwise.
func OverThreshold(errors, total, threshold float64) Result {
	return decide("error rate", Over, errors, total, threshold)
}

func decide(name string, claim Claim, x, n, t float64) Result {
	r := Result{Name: name, Claim: claim, Errors: x, Total: n, Threshold: t, MinSample: MinSample(t), Needed: -1}
	if p := countsProblem(x, n); p != "" {
		r.Reason = "counts not usable: " + p
	} else if !(t > 0 && t < 1) {
		r.Reason = fmt.Sprintf("threshold %g is not a ratio in (0, 1)", t)
	}
	if r.Reason != "" {
		r.Lo, r.Hi = 0, 1
		return r
	}
	if n > 0 {
		r.Rate = x / n
	}
	r.Lo, r.Hi = Bound(x, n)
	below, above := r.Hi < t, r.Lo > t
	switch {
	case below && claim == Under, above && claim == Over:
		r.Verdict, r.Needed = Met, 0
	case above && claim == Under, below && claim == Over:
		r.Verdict, r.Needed = Breached, 0
	default:
		r.Needed = needed(r.Rate, n, t)
	}
	return r
}

// decided says whether n requests at ratio p put either bound past t.
func decided(p, n, t float64) bool {
	lo, hi := Bound(p*n, n)
	return hi < t || lo > t
}

// needed is how many requests beyond n, at ratio p, decide either way: the
// smallest N with decided(p, N, t), found by doubling and then bisecting
// (the bounds narrow as N grows at a fixed ratio); -1 past searchLimit.
func needed(p, n, t float64) int64 {
	if p == 0 {
		return max(MinSample(t)-int64(math.Ceil(n)), 1)
	}
	lo := int64(math.Ceil(n)) // not decided
	hi := max(lo, 1)
	limit := searchLimit(n)
	for !decided(p, float64(hi), t) {
		if hi >= limit {
			return -1
		}
		lo, hi = hi, min(2*hi, limit)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if decided(p, float64(mid), t) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return max(int64(math.Ceil(float64(hi)-n)), 1)
}

// countsProblem says why errors out of total cannot be a rate, or "".
func countsProblem(x, n float64) string {
	switch {
	case math.IsNaN(x) || math.IsNaN(n) || math.IsInf(x, 0) || math.IsInf(n, 0):
		return fmt.Sprintf("counts are not numbers (%g errors, %g requests)", x, n)
	case x < 0 || n < 0:
		return fmt.Sprintf("negative counts (%g errors, %g requests)", x, n)
	case x > n:
		return fmt.Sprintf("more errors than requests (%s errors, %s requests)", count(x), count(n))
	}
	return ""
}

// Decided is true when the verdict is MET or BREACHED.
func (r Result) Decided() bool { return r.Verdict != Inconclusive }

// Describe reads the claim: "error rate < 0.1%".
func (r Result) Describe() string {
	op := "<"
	if r.Claim == Over {
		op = ">"
	}
	return r.Name + " " + op + " " + threshold(r.Threshold)
}

// String reads, for example,
//
//	error rate 0.00% (0/294), 95% upper bound 1.01% ≥ 0.1%: INCONCLUSIVE, ~2,700 more requests needed
//	error rate 0.00% (0/3,500), 95% upper bound 0.0856% < 0.1%: MET
//	error rate 0.60% (6/1,000), 95% lower bound 0.261% > 0.1%: BREACHED
//	error rate 3.00% (30/1,000), 95% lower bound 2.17% > 1%: MET   (OverThreshold: the rollback rule fires)
//
// naming the bound that decided, or for INCONCLUSIVE the one that would
// decide the claim.
func (r Result) String() string {
	if r.Reason != "" {
		return fmt.Sprintf("%s: %s: %s", r.Name, r.Reason, r.Verdict)
	}
	th := threshold(r.Threshold)
	var bound string
	switch {
	case r.Hi < r.Threshold:
		bound = "95% upper bound " + percent(r.Hi) + " < " + th
	case r.Lo > r.Threshold:
		bound = "95% lower bound " + percent(r.Lo) + " > " + th
	case r.Claim == Under:
		bound = "95% upper bound " + percent(r.Hi) + " ≥ " + th
	default:
		bound = "95% lower bound " + percent(r.Lo) + " ≤ " + th
	}
	s := fmt.Sprintf("%s %s (%s/%s), %s: %s", r.Name, percent(r.Rate), count(r.Errors), count(r.Total), bound, r.Verdict)
	if r.Verdict == Inconclusive {
		if r.Needed > 0 {
			s += fmt.Sprintf(", ~%s more requests needed", count(float64(roundSignificant(r.Needed, 2))))
		} else {
			s += fmt.Sprintf(", %s is too close to %s to decide within %s requests", percent(r.Rate), th, count(float64(searchLimit(r.Total))))
		}
	}
	return s
}
