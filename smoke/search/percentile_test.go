package search

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	assert.Equal(t, time.Duration(0), Percentile(nil, 95))
	assert.Equal(t, 7*time.Millisecond, Percentile(ms(7), 95))
	// 20 samples: rank ceil(0.95*20) = 19.
	twenty := ms(20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)
	assert.Equal(t, 19*time.Millisecond, Percentile(twenty, 95))
	// 23 samples: rank ceil(21.85) = 22; one slow outlier does not count.
	s := append(ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22), 900*time.Millisecond)
	assert.Equal(t, 22*time.Millisecond, Percentile(s, 95))
	// 2 slow of 23: the second is the p95.
	s[21] = 800 * time.Millisecond
	assert.Equal(t, 800*time.Millisecond, Percentile(s, 95))
}

func TestViolation(t *testing.T) {
	g := Grant{ID: 1, Title: "Call for projects 2027: Quantum computing", Summary: "CNRS funds quantum computing projects",
		Category: "research", Region: "occitanie", Amount: 5000, Deadline: "2027-03-01"}
	assert.Empty(t, Filter{Query: "computing", Category: "research", Region: "occitanie", MinAmount: 5000, MaxAmount: 5000,
		DeadlineAfter: "2027-03-01", DeadlineBefore: "2027-03-01"}.Violation(g))
	assert.Equal(t, `title and summary do not contain "biology"; category "research", want "health"; amount 5000 < min_amount 6000; deadline 2027-03-01 after deadline_before 2027-02-28`,
		Filter{Query: "biology", Category: "health", MinAmount: 6000, DeadlineBefore: "2027-02-28"}.Violation(g))
	assert.True(t, matchesQuery(Grant{Summary: "for organisations"}, "organise"))
}

func TestPickersAvoidValuesSharedByThePage(t *testing.T) {
	res := []Grant{
		{Title: "Grant programme: Marine biology", Category: "research", Summary: "funds projects"},
		{Title: "Grant programme: Energy renovation", Category: "environment", Summary: "funds projects"},
	}
	assert.Equal(t, "marine", pickWord(res), "programme is on every result; marine is not")
	assert.Equal(t, "research", pickValue(res, func(g Grant) string { return g.Category }))
}
