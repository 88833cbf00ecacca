package stats

import (
	"math"
	"strconv"
	"strings"
)

// percent prints a ratio as a percentage with 3 significant digits and at
// least 2 decimals, so a bound of 0.0996% never prints as "0.10%" beside a
// threshold of 0.1%: 0 is "0.00%", 0.000856 "0.0856%", 0.0301 "3.01%".
func percent(v float64) string {
	p := v * 100
	if p == 0 || math.IsNaN(p) || math.IsInf(p, 0) || math.Abs(p) >= 1 {
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	}
	decimals := min(2-int(math.Floor(math.Log10(math.Abs(p)))), 8)
	s := strconv.FormatFloat(p, 'f', decimals, 64)
	for decimals > 2 && strings.HasSuffix(s, "0") {
		s, decimals = s[:len(s)-1], decimals-1
	}
	return s + "%"
}

// threshold prints a ratio threshold as the runbook writes it: "0.1%", "1%".
func threshold(v float64) string {
	return strconv.FormatFloat(v*100, 'g', 6, 64) + "%"
}

// count prints a count rounded to a whole number with thousands separators:
// "3,500".
func count(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	s := strconv.FormatFloat(math.Abs(math.Round(v)), 'f', 0, 64)
	var b strings.Builder
	if v <= -0.5 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// roundSignificant rounds n to d significant digits: 2,701 is 2,700.
func roundSignificant(n int64, d int) int64 {
	if n <= 0 {
		return n
	}
	scale := math.Pow(10, math.Max(0, math.Floor(math.Log10(float64(n)))+1-float64(d)))
	return int64(math.Round(float64(n)/scale) * scale)
}
