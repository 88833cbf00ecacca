package postdeploy_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/postdeploy"
)

// An allowlisted SQL error hides itself only: a real one logged after it in
// the same service is still found.
func TestSQLErrorLinesAllowlistSkipsOnlyTheLine(t *testing.T) {
	services := []target.Service{{Name: "backend-core"}, {Name: "data-service"}}
	logs := map[string][]kube.LogLine{
		"backend-core": {
			{Pod: "b-1", Number: 1, Text: `ERROR: duplicate key value violates unique constraint "users_email_key" (expected during smoke)`},
			{Pod: "b-1", Number: 2, Text: `ERROR: relation "scrape_job" does not exist (SQLSTATE 42P01)`},
		},
		"data-service": {{Pod: "d-1", Number: 1, Text: `{"level":"INFO","msg":"request"}`}},
	}
	allow := []*regexp.Regexp{regexp.MustCompile(`users_email_key`)}
	found, read := postdeploy.SQLErrorLines(services, logs, allow)
	assert.Equal(t, 3, read)
	if assert.Len(t, found, 1) {
		assert.Contains(t, found[0], `backend-core: pod b-1 line 2: ERROR: relation "scrape_job" does not exist`)
	}
}
