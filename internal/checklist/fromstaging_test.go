package checklist_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/evidence"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
)

// itemFive runs checklist item 5 on tgt, with the staging sub-items
// failing as they do before a first staging deployment (staging runs the
// old version, no smoke record) and the others passing, through the
// evidence files the deploy gate writes, and reads the checklist back.
func itemFive(t *testing.T, tgt *target.Target) checklist.ItemResult {
	t.Helper()
	notYet := func(context.Context, *flow.Recorder) error {
		return errors.New("staging runs granter/backend-core:v1.9.0, not granter/backend-core:v2.0.0")
	}
	res := flow.Run(context.Background(), checklist.Flow(tgt, 5, map[string]checklist.Check{
		"Staging deployment successful":    notYet,
		"Staging smoke tests passed":       notYet,
		"Production secrets ready":         pass("3 secrets"),
		"Database migration scripts ready": pass("6 migrations"),
	}))
	dir := t.TempDir()
	g := evidence.New(dir, "preflight", "github.com/granter/runbook/preflight")
	require.NoError(t, g.Flow("TestEnvironmentValidation", res))
	f, err := os.Open(g.JSONPath())
	require.NoError(t, err)
	defer f.Close()
	rep, err := checklist.Read(f)
	require.NoError(t, err)
	return rep.Items[4]
}

func stagingTarget(kubeContext string) *target.Target {
	return &target.Target{Env: "staging", File: "environments/staging.yaml",
		Kube:    &target.Kube{Context: kubeContext, Namespace: "granter"},
		Staging: target.Staging{KubeContext: "granter-staging"}}
}

// On the staging cluster itself, the prerequisites taken from staging
// cannot hold before the staging deployment they would gate: they are
// NOT APPLICABLE (neither done nor a blocker), and the item is complete
// when the rest is done. make deploy ENV=staging was blocked forever by
// them (found by make rehearse).
func TestFromStagingNotApplicableOnStagingItself(t *testing.T) {
	it := itemFive(t, stagingTarget("granter-staging"))
	for _, s := range it.Subs[:2] {
		assert.Equal(t, checklist.NotApplicable, s.State, "%s: %s", s.Name, s.Reason)
		assert.True(t, strings.HasPrefix(s.Reason, flow.NotApplicableMark), s.Reason)
		assert.Contains(t, s.Reason, "staging.kubeContext")
	}
	for _, s := range it.Subs[2:] {
		assert.Equal(t, checklist.Done, s.State, s.Name)
	}
	assert.True(t, it.Complete(), "item 5 on staging itself: %+v", it.Subs)
	rep := checklist.Report{Items: []checklist.ItemResult{it}}
	assert.Empty(t, rep.Blockers())
}

// Anywhere else (prod reads staging through its context), they are
// checked, and their failure blocks.
func TestFromStagingCheckedElsewhere(t *testing.T) {
	it := itemFive(t, stagingTarget("granter-prod"))
	for _, s := range it.Subs[:2] {
		assert.Equal(t, checklist.Failed, s.State, s.Name)
		assert.Contains(t, s.Reason, "v1.9.0")
	}
	assert.False(t, it.Complete())
}

// Only the sub-items taken from staging may be not applicable: a skip of
// any other that claims it stays a blocker.
func TestNotApplicableOnlyFromStaging(t *testing.T) {
	assert.True(t, checklist.FromStaging("TestRollbackPreparation", "Rollback tested (on staging)"))
	assert.True(t, checklist.FromStaging("TestEnvironmentValidation", "Staging_smoke_tests_passed"))
	assert.False(t, checklist.FromStaging("TestEnvironmentValidation", "Production secrets ready"))
	forged := `{"Action":"output","Package":"p","Test":"TestEnvironmentValidation/Production_secrets_ready","Output":"    x.go:1: NOT APPLICABLE: trust me\n"}
{"Action":"skip","Package":"p","Test":"TestEnvironmentValidation/Production_secrets_ready"}
`
	rep, err := checklist.Read(strings.NewReader(forged))
	require.NoError(t, err)
	assert.Equal(t, checklist.Unchecked, rep.Items[4].Subs[2].State)
}
