package journal

import (
	"strconv"

	"github.com/granter/runbook/internal/stats"
)

// RateData is an error-rate claim as entries record it: the counts it was
// decided from (so a reader can decide again, or decide another claim such
// as the rollback rule, from the same evidence), the bounds, the threshold
// and the verdict.
func RateData(r stats.Result) map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	return map[string]string{
		KeyErrorRate:          strconv.FormatFloat(r.Rate, 'f', 6, 64),
		KeyErrorRateErrors:    f(r.Errors),
		KeyErrorRateRequests:  f(r.Total),
		KeyErrorRateLo:        f(r.Lo),
		KeyErrorRateHi:        f(r.Hi),
		KeyErrorRateThreshold: f(r.Threshold),
		KeyErrorRateVerdict:   r.Verdict.String(),
	}
}

// RateCounts reads the counts RateData recorded: errors and requests. ok is
// false when either is missing or not a number: a ratio alone cannot be
// decided from a bound, so such an entry is not evidence of a rate claim.
func RateCounts(data map[string]string) (errors, requests float64, ok bool) {
	e, err1 := strconv.ParseFloat(data[KeyErrorRateErrors], 64)
	n, err2 := strconv.ParseFloat(data[KeyErrorRateRequests], 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return e, n, true
}
