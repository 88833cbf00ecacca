package junit_test

import (
	"encoding/xml"
	"fmt"

	"github.com/granter/runbook/internal/junit"
)

// gotestsum writes message="Failed"; EnrichSuites replaces it with the
// line the check wrote, so a CI page shows why.
func ExampleEnrichSuites() {
	doc := `<testsuites><testsuite name="smoke" tests="1" failures="1">
<testcase classname="smoke" name="TestAuth/login"><failure message="Failed">=== RUN   TestAuth/login
    runt.go:52: did POST http://api/auth/login; saw 500
    runt.go:60: FAILED: POST http://api/auth/login: status 500, want 200; body: {"error":"db timeout"}
--- FAIL: TestAuth/login (0.20s)
</failure></testcase></testsuite></testsuites>`
	var s junit.Suites
	if err := xml.Unmarshal([]byte(doc), &s); err != nil {
		fmt.Println(err)
		return
	}
	junit.EnrichSuites(&s, nil)
	fmt.Println(s.Suites[0].Cases[0].Failure.Message)
	// Output:
	// POST http://api/auth/login: status 500, want 200; body: {"error":"db timeout"}
}
