package gotestjson_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/gotestjson"
)

// stream is `go test -json` output as go 1.26 writes it for a flow run by
// flow.RunT whose second step fails, a skipped step, a testify failure, a
// test that never ended, and a non-JSON line.
const stream = `{"Time":"2026-03-03T14:41:00Z","Action":"start","Package":"github.com/granter/runbook/smoke"}
{"Time":"2026-03-03T14:41:00.1Z","Action":"run","Package":"github.com/granter/runbook/smoke","Test":"TestSearch"}
{"Time":"2026-03-03T14:41:00.1Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch","Output":"=== RUN   TestSearch\n"}
{"Time":"2026-03-03T14:41:00.2Z","Action":"run","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/query"}
{"Time":"2026-03-03T14:41:00.2Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/query","Output":"=== RUN   TestSearch/query\n"}
{"Time":"2026-03-03T14:41:00.3Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/query","Output":"    runt.go:52: did GET http://api/search?query=test; saw 200, 12 results\n"}
{"Time":"2026-03-03T14:41:00.3Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/query","Output":"--- PASS: TestSearch/query (0.10s)\n"}
{"Time":"2026-03-03T14:41:00.3Z","Action":"pass","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/query","Elapsed":0.1}
{"Time":"2026-03-03T14:41:00.4Z","Action":"run","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/filter_category"}
{"Time":"2026-03-03T14:41:00.5Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/filter_category","Output":"    runt.go:60: FAILED: GET http://api/search?category=research: result 3 has category culture,\n"}
{"Time":"2026-03-03T14:41:00.5Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/filter_category","Output":"        want research\n"}
{"Time":"2026-03-03T14:41:00.5Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/filter_category","Output":"--- FAIL: TestSearch/filter_category (0.10s)\n"}
{"Time":"2026-03-03T14:41:00.5Z","Action":"fail","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/filter_category","Elapsed":0.1}
{"Time":"2026-03-03T14:41:00.6Z","Action":"run","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/pages_consistent"}
{"Time":"2026-03-03T14:41:00.6Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/pages_consistent","Output":"    runt.go:37: NOT RUN: step \"filter_category\" failed before it, so this step proves nothing\n"}
{"Time":"2026-03-03T14:41:00.6Z","Action":"skip","Package":"github.com/granter/runbook/smoke","Test":"TestSearch/pages_consistent","Elapsed":0}
{"Time":"2026-03-03T14:41:00.7Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestSearch","Output":"    runt.go:80: flow search FAILED at step filter_category after 600ms\n"}
{"Time":"2026-03-03T14:41:00.7Z","Action":"fail","Package":"github.com/granter/runbook/smoke","Test":"TestSearch","Elapsed":0.6}
{"Time":"2026-03-03T14:41:00.8Z","Action":"run","Package":"github.com/granter/runbook/smoke","Test":"TestIA"}
{"Time":"2026-03-03T14:41:00.8Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestIA","Output":"    ia_test.go:20: \n"}
{"Time":"2026-03-03T14:41:00.8Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestIA","Output":"        \tError Trace:\t/x/ia_test.go:20\n"}
{"Time":"2026-03-03T14:41:00.8Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestIA","Output":"        \tError:      \tNot equal: \n"}
{"Time":"2026-03-03T14:41:00.8Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestIA","Output":"        \t            \texpected: \"ai\"\n"}
{"Time":"2026-03-03T14:41:00.8Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestIA","Output":"        \tTest:       \tTestIA\n"}
{"Time":"2026-03-03T14:41:00.8Z","Action":"output","Package":"github.com/granter/runbook/smoke","Test":"TestIA","Output":"        \tMessages:   \tPOST http://data/extract source\n"}
{"Time":"2026-03-03T14:41:00.9Z","Action":"fail","Package":"github.com/granter/runbook/smoke","Test":"TestIA","Elapsed":0.1}
{"Time":"2026-03-03T14:41:01Z","Action":"run","Package":"github.com/granter/runbook/smoke","Test":"TestScraper"}
not json: go: downloading something
{"Time":"2026-03-03T14:41:02Z","Action":"output","Package":"github.com/granter/runbook/smoke","Output":"FAIL\n"}
{"Time":"2026-03-03T14:41:02Z","Action":"fail","Package":"github.com/granter/runbook/smoke","Elapsed":2}
`

func TestParse(t *testing.T) {
	res, err := gotestjson.Parse(strings.NewReader(stream))
	require.NoError(t, err)

	q := res.Test("TestSearch/query")
	require.NotNil(t, q)
	assert.Equal(t, gotestjson.Passed, q.Status)
	assert.Equal(t, []string{"did GET http://api/search?query=test; saw 200, 12 results"}, q.Lines())
	assert.Equal(t, "TestSearch", q.Top())
	assert.Equal(t, "query", q.Sub())

	f := res.Test("TestSearch/filter_category")
	require.NotNil(t, f)
	assert.Equal(t, gotestjson.Failed, f.Status)
	assert.Equal(t, "GET http://api/search?category=research: result 3 has category culture, want research", f.Message(),
		"the FAILED line, its continuation joined")

	skipped := res.Test("TestSearch/pages_consistent")
	assert.Equal(t, gotestjson.Skipped, skipped.Status)
	assert.Contains(t, skipped.Message(), "NOT RUN: step \"filter_category\" failed")

	parent := res.Test("TestSearch")
	assert.Equal(t, gotestjson.Failed, parent.Status)
	assert.Equal(t, "TestSearch/filter_category: GET http://api/search?category=research: result 3 has category culture, want research",
		res.Reason(parent), "a parent's reason is its failed subtest's")
	assert.Len(t, res.Subtests("TestSearch"), 3)

	assert.Equal(t, "Not equal: expected: \"ai\" POST http://data/extract source", res.Test("TestIA").Message(), "testify's Error and Messages")

	assert.Equal(t, gotestjson.NoResult, res.Test("TestScraper").Status, "started, never ended: no result, never passed")

	var leaves []string
	for _, l := range res.Leaves() {
		leaves = append(leaves, l.Name)
	}
	assert.Equal(t, []string{"TestSearch/filter_category", "TestIA"}, leaves)
	assert.True(t, res.PackageFailed())
	assert.Equal(t, []string{"not json: go: downloading something"}, res.Stray)
	assert.Equal(t, "2026-03-03T14:41:00Z", res.Start.Format("2006-01-02T15:04:05Z07:00"))
	assert.Equal(t, "2026-03-03T14:41:02Z", res.End.Format("2006-01-02T15:04:05Z07:00"))
}

func TestParseNamesTheBadLine(t *testing.T) {
	_, err := gotestjson.Parse(strings.NewReader("{\"Action\":\"start\"}\n{\"Action\":\n"))
	var pe *gotestjson.ParseError
	require.True(t, errors.As(err, &pe), "got %v", err)
	assert.Equal(t, 2, pe.Line)
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"=== RUN   TestX":                    "",
		"--- FAIL: TestX (0.00s)":            "",
		"    x_test.go:12: saw 200":          "saw 200",
		"    sub/dir/x_test.go:7: FAILED: y": "FAILED: y",
		"PASS":                               "",
		"plain line":                         "plain line",
	} {
		assert.Equal(t, want, gotestjson.Clean(in), in)
	}
}
