// Package phase4 is the runbook's "PHASE 4: Post-Deployment Validation" as
// data, written once: the five smoke flows of Step 4.1 and the checks of
// Steps 4.2-4.5, each with the Go test that runs it. The smoke and
// postdeploy packages implement them; deploy's gates, the checklist's smoke
// record, the go-live report and the Makefile's -run patterns (through
// `runbook tests smoke|postdeploy`) all read them from here.
//
// It holds names only, no procedure, so that internal/ code (the report,
// the checklist) can know them without importing a phase package.
package phase4

import (
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
)

// Step 4.1 as the runbook numbers and titles it.
const (
	SmokeStep  = "4.1"
	SmokeTitle = "Run Smoke Tests (5 flows)"
)

// SmokeCommand is Step 4.1 as a person types it (no build tag: the local
// platform; add -tags=<env> for another).
func SmokeCommand() string {
	return "go test -count=1 -run '" + RunPattern(FlowTests()) + "' ./smoke"
}

// Flow is one smoke flow of Step 4.1.
type Flow struct {
	Name string // the flow, as smoke/<name> and the fault catalogue call it: auth
	Test string // the go test that runs it: TestAuth
}

// The five flows.
var (
	Auth    = Flow{Name: "auth", Test: "TestAuth"}
	Search  = Flow{Name: "search", Test: "TestSearch"}
	Scraper = Flow{Name: "scraper", Test: "TestScraper"}
	IA      = Flow{Name: "ia", Test: "TestIA"}
	Health  = Flow{Name: "health", Test: "TestHealth"}
)

// Flows are Step 4.1's "must pass all 5 flows", in the runbook's order.
var Flows = []Flow{Auth, Search, Scraper, IA, Health}

// FlowNames are the flows' names, in order.
func FlowNames() []string {
	out := make([]string, len(Flows))
	for i, f := range Flows {
		out[i] = f.Name
	}
	return out
}

// FlowTests are the flows' tests, in order.
func FlowTests() []string {
	out := make([]string, len(Flows))
	for i, f := range Flows {
		out[i] = f.Test
	}
	return out
}

// Check is one line of Steps 4.2-4.5.
type Check struct {
	Step  string // the runbook's step: 4.2, 4.3, 4.4, 4.5
	Test  string // the go test that runs it: TestLogs
	Title string // what the runbook says
	// Class is the exit code when it fails: SLO for logs, SQL errors,
	// error rate and alerts; Smoke for health and endpoints.
	Class int
	// Core: a failure that fails again on an immediate retry is "core
	// functionality broken", the rollback rule's second half (Retry).
	Core bool
}

// The checks.
var (
	Logs              = Check{Step: "4.2", Test: "TestLogs", Title: "Check logs for errors", Class: exitcode.SLO}
	NoSQLErrors       = Check{Step: "4.2", Test: "TestNoSQLErrors", Title: "No SQL errors in logs", Class: exitcode.SLO}
	HealthChecks      = Check{Step: "4.3", Test: "TestHealthChecks", Title: "Verify health checks", Class: exitcode.Smoke, Core: true}
	CriticalEndpoints = Check{Step: "4.4", Test: "TestCriticalEndpoints", Title: "Spot check critical endpoints", Class: exitcode.Smoke, Core: true}
	ErrorRate         = Check{Step: "4.5", Test: "TestErrorRate", Title: "Monitor error rate", Class: exitcode.SLO}
	NoCriticalAlerts  = Check{Step: "4.5", Test: "TestNoCriticalAlerts", Title: "No critical alerts triggered", Class: exitcode.SLO}
)

// Checks are Phase 4's checks after the smoke flows, in the order they
// run.
var Checks = []Check{Logs, NoSQLErrors, HealthChecks, CriticalEndpoints, ErrorRate, NoCriticalAlerts}

// CheckTests are the checks' tests, in order.
func CheckTests() []string {
	out := make([]string, len(Checks))
	for i, c := range Checks {
		out[i] = c.Test
	}
	return out
}

// LookupCheck returns the check a test (a top-level test name) runs.
func LookupCheck(test string) (Check, bool) {
	for _, c := range Checks {
		if c.Test == test {
			return c, true
		}
	}
	return Check{}, false
}

// Gates are the Phase 4 gates by name, as `runbook tests` and the Makefile
// call them: each is a package and the tests of it that are the gate (the
// package's other tests prove the suite itself).
var Gates = map[string]func() []string{
	"smoke":      FlowTests,
	"postdeploy": CheckTests,
}

// RunPattern is the `go test -run` pattern that matches exactly these
// top-level tests: ^(TestA|TestB)$.
func RunPattern(tests []string) string {
	return "^(" + strings.Join(tests, "|") + ")$"
}

// IAFallbackOutage is the IA flow's step that makes the AI provider fail
// to see the fallback answer: it needs a switch that only the local
// platform has.
const IAFallbackOutage = "TestIA/fallback_when_provider_fails"

// FrontendInBrowser is the health flow's step that loads web-frontend in
// the headless browser the target's file names (browser.path); on a
// target whose file names none it is not applicable, never passed.
const FrontendInBrowser = "TestHealth/" + FrontendInBrowserStep

// FrontendInBrowserStep is FrontendInBrowser's step name in the flow.
const FrontendInBrowserStep = "frontend_in_browser"

// Declarable are the steps a target's file may declare not applicable
// (notApplicable:, with the reason and where else it is verified): steps
// that need to break something on the target. Every other step must run
// everywhere; a declaration naming one is a configuration error.
var Declarable = []string{IAFallbackOutage}

// MonitorWindow is the MONITORING PHASE's length as the runbook writes it
// ("every 5 minutes for 30 minutes, every 10 minutes for 30 minutes, then
// every 30 minutes for 3 hours": monitor.RunbookSchedule). Only a watch this
// long shows "Monitoring shows stable metrics"; a shorter one counts only on
// a rehearsal target, and the report then says REHEARSAL.
const MonitorWindow = 4 * time.Hour
