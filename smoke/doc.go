// Package smoke is Step 4.1 of the runbook, "Run Smoke Tests: must pass all
// 5 flows": auth (register, login), search (query + filters), scraper
// (multi-page), IA (extraction + fallback) and health (all probes).
//
//	go test ./smoke -tags=prod       # the whole of Step 4.1 against production
//	go test ./smoke -tags=staging    # against staging
//	go test ./smoke                  # against the local platform (fixtures)
//	go test ./smoke/auth -tags=prod  # one flow alone
//
// This package runs the five flows of smoke/auth, smoke/search,
// smoke/scraper, smoke/ia and smoke/health at once (they are independent),
// as TestAuth, TestSearch, TestScraper, TestIA and TestHealth, one subtest
// per step (TestAuth/login). Flows returns them for code that runs them
// without `go test` (the deploy CLI).
//
// What it needs: environments/<env>.yaml and the environment variables it
// names; network access to the services and the listing; for the
// database cross-check of the health flow, database.urlEnv. What it leaves
// behind: nothing. Smoke users and scrape jobs are uniquely named
// (smoke.userPrefix) and deleted through the API, even when a step fails;
// a cleanup that cannot delete fails the run and names what is left. (IA
// extractions leave the audit rows v2.0.0 keeps for every extraction.)
//
// When it fails: the failed step's message names the URL, the status,
// expected vs seen and an excerpt of the body; the steps after it are
// reported as NOT RUN. Each flow's package documentation says what its
// failures mean. Any failed flow is a NO-GO for Phase 4: follow the
// rollback triggers of the runbook. An endpoint that cannot be reached fails
// within seconds, naming it: check the URLs in environments/<env>.yaml,
// DNS, the ingress and the pods before reading anything else.
package smoke
