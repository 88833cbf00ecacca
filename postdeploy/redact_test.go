package postdeploy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/retry"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/postdeploy"
)

// TestCheckErrorKeepsNoSecret: a check's error comes back redacted, with
// nothing underneath that a caller could unwrap and print, and still says
// whether it is on the runbook's side (retry.RunbookSide), decided once
// from its cause.
func TestCheckErrorKeepsNoSecret(t *testing.T) {
	const password = "pw-Very-S3cret-9f1c"
	data, err := os.ReadFile("../environments/prod.yaml")
	require.NoError(t, err)
	env := map[string]string{
		"RUNBOOK_PROD_DATABASE_URL": "postgres://granter:" + password + "@db.internal:5432/granter_db",
		"RUNBOOK_PROD_WEBHOOK_URL":  "https://hooks.example.com/T000/B000/xyz",
	}
	tgt, err := target.Parse(data, "environments/prod.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	url := tgt.Database.URL.Reveal()
	checker := postdeploy.NewChecker(tgt, time.Now())
	run := func(cause error) error {
		_, err := checker.Run(t.Context(), postdeploy.Check{Run: func(*postdeploy.Checker, context.Context, *postdeploy.Evidence) error {
			return fmt.Errorf("query pg_stat_statements through %s: %w", url, cause)
		}}, nil)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), password)
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			assert.NotContains(t, e.Error(), password, "an unwrapped cause shows the secret")
		}
		return err
	}
	unreachable := run(&net.DNSError{Err: "no such host", Name: "db.internal", IsNotFound: true})
	assert.True(t, retry.RunbookSide(unreachable), "a DNS failure is on the runbook's side: %v", unreachable)
	wrong := run(errors.New("3 SQL errors in the logs"))
	assert.False(t, retry.RunbookSide(wrong), "a wrong answer is the release's: %v", wrong)
}
