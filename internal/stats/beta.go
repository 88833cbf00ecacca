package stats

import "math"

// regIncBeta is the regularized incomplete beta function I_x(a, b) for
// a, b > 0 and x in [0, 1]: the continued fraction of Numerical Recipes
// (3rd ed., 6.4), evaluated with the modified Lentz method.
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	// The continued fraction converges fast only below the mean; above it,
	// use I_x(a, b) = 1 - I_{1-x}(b, a).
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

// betaCF evaluates the continued fraction of regIncBeta. It converges in
// O(sqrt(max(a, b))) steps; the cap is far above what MaxSample needs.
func betaCF(a, b, x float64) float64 {
	const (
		maxIter = 1_000_000
		eps     = 1e-15
	)
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1/nonZero(1-qab*x/qap)
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		// Each iteration takes an even and an odd term of the fraction.
		even := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		c, d = nonZero(1+even/c), 1/nonZero(1+even*d)
		h *= d * c
		odd := -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		c, d = nonZero(1+odd/c), 1/nonZero(1+odd*d)
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// nonZero keeps the Lentz method off a division by zero.
func nonZero(v float64) float64 {
	const tiny = 1e-300
	if math.Abs(v) < tiny {
		return tiny
	}
	return v
}

// betaQuantile is the p such that I_p(a, b) = target, by bisection: I_p is
// increasing in p, and bisection cannot diverge. It stops at a relative
// width of 1e-12, far finer than any bound is printed.
func betaQuantile(a, b, target float64) float64 {
	lo, hi := 0.0, 1.0
	for range 2000 {
		mid := lo + (hi-lo)/2
		if mid == lo || mid == hi || hi-lo <= 1e-12*hi {
			break
		}
		if regIncBeta(a, b, mid) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}
