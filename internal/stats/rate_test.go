package stats

import (
	"math"
	"strings"
	"testing"
)

// The acceptance cases of issue 13, on synthetic counts.
func TestRunbookRates(t *testing.T) {
	cases := []struct {
		name          string
		decide        func(x, n, t float64) Result
		errors, total float64
		threshold     float64
		want          Verdict
		wantString    string
	}{
		{"0 in 294 cannot show < 0.1%", UnderThreshold, 0, 294, 0.001, Inconclusive,
			"error rate 0.00% (0/294), 95% upper bound 1.01% ≥ 0.1%: INCONCLUSIVE, ~2,700 more requests needed"},
		{"0 in 3,500 shows < 0.1%", UnderThreshold, 0, 3500, 0.001, Met,
			"error rate 0.00% (0/3,500), 95% upper bound 0.0856% < 0.1%: MET"},
		{"6 in 1,000 fails the 0.1% gate", UnderThreshold, 6, 1000, 0.001, Breached,
			"error rate 0.60% (6/1,000), 95% lower bound 0.262% > 0.1%: BREACHED"},
		{"6 in 1,000 is no rollback", OverThreshold, 6, 1000, 0.01, Inconclusive,
			"error rate 0.60% (6/1,000), 95% lower bound 0.262% ≤ 1%: INCONCLUSIVE, ~770 more requests needed"},
		{"30 in 1,000 is a rollback", OverThreshold, 30, 1000, 0.01, Met,
			"error rate 3.00% (30/1,000), 95% lower bound 2.17% > 1%: MET"},
		{"0 in 1,000 shows no rollback is due", OverThreshold, 0, 1000, 0.01, Breached,
			"error rate 0.00% (0/1,000), 95% upper bound 0.299% < 1%: BREACHED"},
		{"no traffic decides nothing", UnderThreshold, 0, 0, 0.001, Inconclusive,
			"error rate 0.00% (0/0), 95% upper bound 100.00% ≥ 0.1%: INCONCLUSIVE, ~3,000 more requests needed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.decide(c.errors, c.total, c.threshold)
			if r.Verdict != c.want {
				t.Errorf("%g/%g vs %g: verdict %s, want %s (%s)", c.errors, c.total, c.threshold, r.Verdict, c.want, r)
			}
			if got := r.String(); !strings.HasPrefix(got, c.wantString) {
				t.Errorf("String():\n got %q\nwant %q", got, c.wantString)
			}
			if r.Decided() != (r.Needed == 0) {
				t.Errorf("decided %v but Needed %d", r.Decided(), r.Needed)
			}
		})
	}
}

// The bounds are exact Clopper–Pearson: checked against R's binom.test
// (two-sided 95%, so 2.5% in each tail), against the closed forms at 0 and
// n errors, and against the binomial distribution summed term by term.
func TestBoundClopperPearson(t *testing.T) {
	known := []struct {
		x, n, lo, hi float64
	}{
		{1, 10, 0.002528579, 0.445016117}, // binom.test(1, 10)
		{5, 10, 0.187086028, 0.812913972}, // binom.test(5, 10)
		{0, 10, 0, 0.308497108},           // binom.test(0, 10); 1-0.025^(1/10)
		{10, 10, 0.691502892, 1},          // binom.test(10, 10); 0.025^(1/10)
	}
	for _, k := range known {
		lo, hi := boundAt(k.x, k.n, 0.025)
		if math.Abs(lo-k.lo) > 1e-8 || math.Abs(hi-k.hi) > 1e-8 {
			t.Errorf("%g/%g two-sided 95%%: got [%.9f, %.9f], R's binom.test says [%.9f, %.9f]", k.x, k.n, lo, hi, k.lo, k.hi)
		}
	}

	for _, n := range []float64{1, 59, 294, 3500, 1e6} {
		if _, hi := Bound(0, n); math.Abs(hi-(1-math.Pow(0.05, 1/n))) > 1e-12 {
			t.Errorf("0/%g: upper bound %g, want 1-0.05^(1/n) = %g", n, hi, 1-math.Pow(0.05, 1/n))
		}
		if lo, _ := Bound(n, n); math.Abs(lo-math.Pow(0.05, 1/n)) > 1e-12 {
			t.Errorf("%g/%g: lower bound %g, want 0.05^(1/n) = %g", n, n, lo, math.Pow(0.05, 1/n))
		}
	}
	if _, hi := Bound(0, 3000); math.Abs(hi*3000-3) > 0.01 {
		t.Errorf("0/3000: upper bound %g, want about 3/n (the rule of three)", hi)
	}

	for _, c := range []struct{ x, n int }{{1, 294}, {6, 1000}, {30, 1000}, {3, 3500}, {50, 100}} {
		lo, hi := Bound(float64(c.x), float64(c.n))
		if got := binomCDF(c.x, c.n, hi); math.Abs(got-0.05) > 1e-9 {
			t.Errorf("%d/%d: P(X ≤ %d | p = hi = %g) = %g, want 0.05", c.x, c.n, c.x, hi, got)
		}
		if got := 1 - binomCDF(c.x-1, c.n, lo); math.Abs(got-0.05) > 1e-9 {
			t.Errorf("%d/%d: P(X ≥ %d | p = lo = %g) = %g, want 0.05", c.x, c.n, c.x, lo, got)
		}
		if p := float64(c.x) / float64(c.n); !(lo < p && p < hi) {
			t.Errorf("%d/%d: bounds [%g, %g] do not hold the observed %g", c.x, c.n, lo, hi, p)
		}
	}
}

// binomCDF is P(X ≤ k) for X ~ Binomial(n, p), summed term by term: an
// independent check of the incomplete beta function.
func binomCDF(k, n int, p float64) float64 {
	var s float64
	for i := 0; i <= k; i++ {
		ln, _ := math.Lgamma(float64(n + 1))
		li, _ := math.Lgamma(float64(i + 1))
		lni, _ := math.Lgamma(float64(n - i + 1))
		s += math.Exp(ln - li - lni + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return s
}

func TestMinSample(t *testing.T) {
	for _, c := range []struct {
		threshold float64
		want      int64
	}{{0.001, 2995}, {0.01, 299}, {0.05, 59}, {0, -1}, {1, -1}, {math.NaN(), -1}} {
		got := MinSample(c.threshold)
		if got != c.want {
			t.Errorf("MinSample(%g) = %d, want %d", c.threshold, got, c.want)
		}
		if got > 0 {
			if _, hi := Bound(0, float64(got)); !(hi < c.threshold) {
				t.Errorf("0/%d: upper bound %g, not under %g", got, hi, c.threshold)
			}
			if _, hi := Bound(0, float64(got-1)); hi < c.threshold {
				t.Errorf("0/%d: upper bound %g already under %g: MinSample is not the smallest", got-1, hi, c.threshold)
			}
		}
	}
}

// Needed is the exact number of further requests, at the observed ratio,
// that decides the claim.
func TestNeeded(t *testing.T) {
	for _, c := range []struct{ x, n, t float64 }{
		{0, 294, 0.001}, {2, 1000, 0.001}, {1, 2000, 0.001}, {12, 1000, 0.01}, {6, 1000, 0.01},
		{19_900, 20_000_000, 0.001}, // past MaxSample already; about 1e8 more
	} {
		r := UnderThreshold(c.x, c.n, c.t)
		if r.Decided() || r.Needed <= 0 {
			t.Fatalf("%g/%g vs %g: want INCONCLUSIVE with Needed > 0, got %s (Needed %d)", c.x, c.n, c.t, r, r.Needed)
		}
		p, n := c.x/c.n, c.n+float64(r.Needed)
		if !UnderThreshold(p*n, n, c.t).Decided() {
			t.Errorf("%g/%g vs %g: %d more requests at %g do not decide: %s", c.x, c.n, c.t, r.Needed, p, UnderThreshold(p*n, n, c.t))
		}
		if n--; c.x > 0 && UnderThreshold(p*n, n, c.t).Decided() {
			t.Errorf("%g/%g vs %g: %d more requests would already decide", c.x, c.n, c.t, r.Needed-1)
		}
	}

	r := UnderThreshold(1, 1000, 0.001)
	if r.Needed != -1 || !strings.Contains(r.String(), "too close to 0.1% to decide within 10,000,000 requests") {
		t.Errorf("1/1000 vs 0.1%%: the ratio is the threshold, no sample decides; got Needed %d, %s", r.Needed, r)
	}
}

func TestUnusableCounts(t *testing.T) {
	for _, c := range []struct {
		x, n, t float64
		reason  string
	}{
		{12, 10, 0.001, "more errors than requests (12 errors, 10 requests)"},
		{-1, 10, 0.001, "negative counts"},
		{math.NaN(), 10, 0.001, "not numbers"},
		{0, 10, 0, "threshold 0 is not a ratio"},
		{0, 10, 1.5, "threshold 1.5 is not a ratio"},
	} {
		for _, r := range []Result{UnderThreshold(c.x, c.n, c.t), OverThreshold(c.x, c.n, c.t)} {
			if r.Verdict != Inconclusive || r.Needed != -1 || !strings.Contains(r.Reason, c.reason) {
				t.Errorf("%g/%g vs %g: want INCONCLUSIVE, Needed -1, reason %q; got %s, Needed %d, reason %q", c.x, c.n, c.t, c.reason, r.Verdict, r.Needed, r.Reason)
			}
			if !strings.Contains(r.String(), r.Reason) {
				t.Errorf("String() hides the reason: %s", r)
			}
		}
	}
	if lo, hi := Bound(12, 10); lo != 0 || hi != 1 {
		t.Errorf("Bound(12, 10) = [%g, %g], want [0, 1]: nothing is known", lo, hi)
	}
}

// Prometheus's increase() returns fractional counts; they are used as is.
func TestFractionalCounts(t *testing.T) {
	lo1, hi1 := Bound(2, 1000)
	lo, hi := Bound(2.3, 1000.7)
	lo3, hi3 := Bound(3, 1000)
	if !(lo1 < lo && lo < lo3 && hi1 < hi && hi < hi3) {
		t.Errorf("2.3/1000.7: bounds [%g, %g] not between those of 2/1000 [%g, %g] and 3/1000 [%g, %g]", lo, hi, lo1, hi1, lo3, hi3)
	}
	_, hi0 := Bound(0, 100)
	lo5, hi5 := Bound(0.5, 100)
	lo10, hi10 := Bound(1, 100)
	if !(0 < lo5 && lo5 < lo10 && hi0 < hi5 && hi5 < hi10) {
		t.Errorf("0.5/100: bounds [%g, %g] not between those of 0/100 [0, %g] and 1/100 [%g, %g]", lo5, hi5, hi0, lo10, hi10)
	}
}

func TestFormat(t *testing.T) {
	for v, want := range map[float64]string{0: "0.00%", 0.000856: "0.0856%", 0.000996: "0.0996%", 0.0301: "3.01%", 0.006: "0.60%", 1: "100.00%"} {
		if got := percent(v); got != want {
			t.Errorf("percent(%g) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0", 294: "294", 3500: "3,500", 1234567: "1,234,567", 296.4: "296"} {
		if got := count(v); got != want {
			t.Errorf("count(%g) = %q, want %q", v, got, want)
		}
	}
	if got := roundSignificant(2701, 2); got != 2700 {
		t.Errorf("roundSignificant(2701, 2) = %d, want 2700", got)
	}
}
