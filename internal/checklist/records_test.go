package checklist_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/checklist"
)

// smokeJSON is `go test -json ./smoke` where every flow passed, except
// that the steps named in skip skipped (their parent still passes, as Go
// does).
func smokeJSON(skip ...string) string {
	var b strings.Builder
	for _, f := range []string{"TestAuth", "TestSearch", "TestScraper", "TestIA", "TestHealth"} {
		b.WriteString(`{"Action":"run","Package":"smoke","Test":"` + f + `"}` + "\n")
		step := f + "/step_one"
		action := "pass"
		for _, s := range skip {
			if s == step {
				action = "skip"
			}
		}
		b.WriteString(`{"Action":"run","Package":"smoke","Test":"` + step + `"}` + "\n")
		b.WriteString(`{"Action":"` + action + `","Package":"smoke","Test":"` + step + `"}` + "\n")
		b.WriteString(`{"Action":"pass","Package":"smoke","Test":"` + f + `"}` + "\n")
	}
	b.WriteString(`{"Action":"pass","Package":"smoke"}` + "\n")
	return b.String()
}

func TestSmokeRecordSkippedStepIsNotPassed(t *testing.T) {
	at := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	rec, err := checklist.SmokeRecordFrom(strings.NewReader(smokeJSON()), "staging", "v2.0.0", at)
	require.NoError(t, err)
	assert.True(t, rec.Passed, rec.Problems)
	assert.NoError(t, rec.Check("staging", "v2.0.0"))

	rec, err = checklist.SmokeRecordFrom(strings.NewReader(smokeJSON("TestSearch/step_one")), "staging", "v2.0.0", at)
	require.NoError(t, err)
	assert.False(t, rec.Passed)
	assert.Equal(t, "step skipped: TestSearch/step_one", rec.Flows["TestSearch"])
	assert.Equal(t, "passed", rec.Flows["TestAuth"])
	err = rec.Check("staging", "v2.0.0")
	require.Error(t, err, "item 5 must not complete from a skipped step")
	assert.Contains(t, err.Error(), "TestSearch/step_one")
}
