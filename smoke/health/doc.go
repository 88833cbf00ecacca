// Package health is Step 4.1 of the runbook: "Health flow (all probes)".
//
// On every service (backend-core, data-service, web-frontend) it calls
// GET /health and expects 200 with the runbook's answer
// {"status":"healthy","services":{"database":"up","api":"up"}} saying
// "version": the version being deployed (RUNBOOK_VERSION or --version; the
// step "version" is skipped, loudly, when none is given), GET /health/live (200 {"status":"alive"})
// and GET /health/ready (200 {"status":"ready"}); on web-frontend, also its
// page (GET /, 200 text/html). Where the target gives database access
// (database.urlEnv), it connects and runs SELECT 1 itself, so that
// "database: up" is not taken on the services' word alone; elsewhere that
// step is reported as skipped. One step per service, each reporting every
// failed probe, none hiding another. Last, frontend_in_browser loads
// web-frontend in the headless browser the target's file names
// (browser.path, chromium): the page must render a title, a heading and a
// visible search form, and a search typed into it must list the grants
// the search API answers for it; a target without a browser reports that
// step NOT APPLICABLE. Then frontend_refused_search asks backend-core and
// web-frontend for a search the API refuses (limit=0): the results page
// must answer 400 as a page headed with the API's own message, with the
// search form, never a blank page. It only reads.
//
// Run it alone: go test ./smoke/health -tags=prod.
//
// When it fails:
//   - /health 503 with "database":"down", or /health/ready 503 naming the
//     database: the service cannot reach PostgreSQL; check DATABASE_URL in
//     granter-secrets and the database (Step 2.3).
//   - /health/ready 503 naming pending migrations: Phase 2 did not finish.
//   - /health/live fails: the process is wedged; its pods will be restarted;
//     check the logs.
//   - the page fails: web-frontend is broken for users. Roll back.
//   - frontend_in_browser fails: users see a blank page, no search form,
//     or results that are not what they searched for (the message names
//     the URL, what was expected and seen, and the page's text). Roll back.
//     "browser ... not found": install chromium (make deps) on this host.
//   - frontend_refused_search fails: a user whose search is refused sees
//     a blank page or no reason (the message says what was seen). Roll back.
//   - the database step fails: the database itself does not answer, whatever
//     the services say.
//
// What it cannot see: a /health that answers "database: up" without
// asking the database (the fault health.health-lies) answers exactly like
// an honest one while the database is up; only the database step's own
// SELECT 1 stands against it (README "Known gaps").
package health
