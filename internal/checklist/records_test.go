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

// naJSON is a passing smoke run whose step skipped with the NOT APPLICABLE
// line the flow prints for a declared step.
func naJSON(step string) string {
	top, _, _ := strings.Cut(step, "/")
	out := smokeJSON()
	extra := `{"Action":"run","Package":"smoke","Test":"` + step + `"}` + "\n" +
		`{"Action":"output","Package":"smoke","Test":"` + step + `","Output":"    runt.go:52: NOT APPLICABLE on staging (declared in environments/staging.yaml): no outage switch; verified elsewhere: make rehearse\n"}` + "\n" +
		`{"Action":"skip","Package":"smoke","Test":"` + step + `"}` + "\n"
	return strings.Replace(out, `{"Action":"pass","Package":"smoke","Test":"`+top+`"}`, extra+`{"Action":"pass","Package":"smoke","Test":"`+top+`"}`, 1)
}

// A step the staging file declares not applicable does not block item 5
// (a real go-live could otherwise never be approved), and the record
// keeps what the declaration says; a step that may not be declared so
// still blocks.
func TestSmokeRecordNotApplicableStep(t *testing.T) {
	at := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	rec, err := checklist.SmokeRecordFrom(strings.NewReader(naJSON("TestIA/fallback_when_provider_fails")), "staging", "v2.0.0", at)
	require.NoError(t, err)
	require.NoError(t, rec.Check("staging", "v2.0.0"))
	assert.Equal(t, "passed", rec.Flows["TestIA"])
	assert.Contains(t, rec.NotApplicable["TestIA/fallback_when_provider_fails"], "NOT APPLICABLE on staging (declared in environments/staging.yaml)")

	rec, err = checklist.SmokeRecordFrom(strings.NewReader(naJSON("TestAuth/login")), "staging", "v2.0.0", at)
	require.NoError(t, err)
	err = rec.Check("staging", "v2.0.0")
	require.Error(t, err, "only phase4.Declarable steps may be not applicable")
	assert.Contains(t, err.Error(), "TestAuth/login skipped as not applicable, but only TestIA/fallback_when_provider_fails may be declared so")
}
