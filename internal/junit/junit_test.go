package junit_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/junit"
)

// gate runs the failing gate of testdata/failing the way the Makefile runs
// a gate, with real gotestsum, and returns its JUnit and JSON files.
func gate(t *testing.T) (junitPath, jsonPath string) {
	t.Helper()
	dir := t.TempDir()
	junitPath, jsonPath = filepath.Join(dir, "smoke.junit.xml"), filepath.Join(dir, "smoke.json")
	cmd := exec.Command("go", "tool", "gotestsum", "--format", "standard-quiet",
		"--junitfile", junitPath, "--jsonfile", jsonPath, "--", "-count=1", "./testdata/failing")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the gate must fail (exit status 1), got %v:\n%s", err, out)
	require.FileExists(t, junitPath)
	return junitPath, jsonPath
}

// xmllint validates path against the JUnit schema CI reporters read.
func xmllint(t *testing.T, path string) error {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint is needed to validate JUnit XML against its schema: apt-get install -y libxml2-utils (scripts/deps.sh): %v", err)
	}
	out, err := exec.Command(bin, "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput()
	if err != nil {
		return errors.New(string(out))
	}
	return nil
}

func TestEnrichRealGotestsumOutput(t *testing.T) {
	junitPath, jsonPath := gate(t)
	raw, err := os.ReadFile(junitPath)
	require.NoError(t, err)
	if err := xmllint(t, junitPath); err != nil {
		t.Logf("gotestsum's own output does not validate (why Enrich exists): %v", err)
	}

	require.NoError(t, junit.Enrich(junitPath, jsonPath))
	require.NoError(t, xmllint(t, junitPath), "enriched JUnit must validate against testdata/junit.xsd")

	s, err := junit.Read(junitPath)
	require.NoError(t, err)
	require.Len(t, s.Suites, 1)
	cases := map[string]junit.Case{}
	for _, c := range s.Suites[0].Cases {
		cases[c.Name] = c
	}

	step := cases["TestSearch/filter_category"]
	require.NotNil(t, step.Failure, "raw: %s", raw)
	assert.Equal(t, "GET http://127.0.0.1:18080/search?category=research: result 3 has category culture, want research",
		step.Failure.Message, "the failure message is the evidence: URL and what was wrong")
	assert.Contains(t, step.Failure.Body, "did GET http://127.0.0.1:18080/search?category=research; saw 200, 5 results",
		"the body keeps what the step did before it failed")

	flow := cases["TestSearch"]
	require.NotNil(t, flow.Failure)
	assert.Equal(t, "TestSearch/filter_category: GET http://127.0.0.1:18080/search?category=research: result 3 has category culture, want research",
		flow.Failure.Message, "a flow names its failed step and why")

	slo := cases["TestErrorRate"]
	require.NotNil(t, slo.Failure)
	assert.Contains(t, slo.Failure.Message, "error rate 0.52%")
	assert.Contains(t, slo.Failure.Message, "query: sum(rate(http_requests_total")
	assert.Contains(t, slo.Failure.Message, "want < 0.1%", "query, value and threshold")

	notRun := cases["TestSearch/pages_consistent"]
	require.NotNil(t, notRun.Skipped, "a step after a failure is skipped, never passed")
	assert.True(t, strings.HasPrefix(notRun.Skipped.Message, "NOT RUN: step \"filter_category\" failed"), notRun.Skipped.Message)
	assert.NotContains(t, notRun.Skipped.Message, "\n", "a one-line message")

	pass := cases["TestRollout"]
	assert.Nil(t, pass.Failure)
	assert.Contains(t, pass.SystemOut, "deployment backend-core: image granter/backend-core:v2.0.0, 3/3 ready, condition Available=True",
		"a passing testcase carries what it saw")
	assert.Contains(t, cases["TestSearch/query"].SystemOut, "did GET http://127.0.0.1:18080/search?query=test; saw 200, 12 results")

	assert.Equal(t, 0, s.Suites[0].Errors)
	assert.Equal(t, 3, s.Suites[0].Failures)

	// Idempotent: a second pass changes nothing.
	before, err := os.ReadFile(junitPath)
	require.NoError(t, err)
	require.NoError(t, junit.Enrich(junitPath, jsonPath))
	after, err := os.ReadFile(junitPath)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
}

func TestEnrichWithoutJSONStillGivesFailureEvidence(t *testing.T) {
	junitPath, _ := gate(t)
	require.NoError(t, junit.Enrich(junitPath, ""))
	require.NoError(t, xmllint(t, junitPath))
	s, err := junit.Read(junitPath)
	require.NoError(t, err)
	for _, c := range s.Suites[0].Cases {
		if c.Failure != nil {
			assert.NotEqual(t, "Failed", c.Failure.Message, c.Name)
			assert.Contains(t, c.Failure.Message, "want ", c.Name)
		}
	}
}

func TestEnrichMovesTestcasePropertiesAndCountsErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.junit.xml")
	require.NoError(t, os.WriteFile(path, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="0" errors="0" time="0.1">
	<testsuite tests="2" failures="0" time="0.1" name="p" timestamp="2026-03-03T14:00:00Z">
		<testcase classname="p" name="TestA" time="0.0">
			<properties><property name="deployment" value="backend-core"></property></properties>
		</testcase>
		<testcase classname="p" name="TestMain" time="0.0"><error message="panic">boom</error></testcase>
	</testsuite>
</testsuites>`), 0o644))
	require.NoError(t, junit.Enrich(path, ""))
	require.NoError(t, xmllint(t, path))
	s, err := junit.Read(path)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Suites[0].Errors)
	assert.Equal(t, 1, s.Errors)
	assert.Equal(t, "attr deployment=backend-core", s.Suites[0].Cases[0].SystemOut)
	assert.Nil(t, s.Suites[0].Cases[0].Properties)
}

func TestReadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.junit.xml")
	require.NoError(t, os.WriteFile(path, []byte("<testsuites"), 0o644))
	_, err := junit.Read(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.junit.xml")
}
