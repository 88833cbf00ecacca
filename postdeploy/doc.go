// Package postdeploy is Phase 4 of the runbook, "Post-Deployment
// Validation (14:40-15:00)", after Step 4.1's smoke flows (package smoke):
//
//	Step 4.2: Check Logs for Errors   kubectl logs -l app=backend-core --tail=50 | grep ERROR   ✅ No ERROR level logs
//	Step 4.3: Verify Health Checks    curl http://frontend.example.com/health ...              ✅ All services returning HTTP 200
//	Step 4.4: Spot Check Critical Endpoints  /auth/me with a token, /search?query=test, /health  ✅ HTTP 200
//	Step 4.5: Monitor Error Rate      Error Rate should be < 0.1%                               ✅ Error rate normal
//
// and two of the SUCCESS CRITERIA that read the same sources: "No SQL errors
// in logs" and "No critical alerts triggered".
//
//	go test ./postdeploy -tags=prod     # Steps 4.2-4.5 against production
//	make deploy ENV=prod VERSION=v2.0.0 # runs them as its postdeploy gate
//
// The tests are TestLogs and TestNoSQLErrors (4.2), TestHealthChecks (4.3),
// TestCriticalEndpoints (4.4), TestErrorRate and TestNoCriticalAlerts (4.5),
// in that order. Checks returns the same checks for code that runs them
// without `go test` (deploy).
//
// What they look at: the new version only. The window starts when Phase 3
// ended (the last Phase 3 entry of the journal in RUNBOOK_RUN_DIR), so
// errors of the old version or of an earlier run do not count; without a
// journal it is the last LogWindow / ErrorRateWindow. The logs are read
// through the Kubernetes API for every service (`kubectl logs -l
// app=<service> --since=...`), ERROR lines matched by kube.logAllowlist
// excepted. The error rate is Prometheus' 5xx ratio over every Granter
// series (prometheus.selector) with at least thresholds.minSamples
// requests: fewer is "no data", which FAILS the step, never passes it. On a
// target whose data may be reset (the local platform; never a readOnly
// one) the check first sends bounded read-only traffic (search, the
// frontend page, a scraper listing) when there are too few requests.
// Before it reads the rate, Step 4.5 proves the telemetry live, on every
// target: each service answers three canaries with a 4xx of its own (GET
// /auth/me without a token 401, an unknown scrape job 404, a search with
// limit=0 400) and Prometheus counts them under that status; the
// services' database query histogram observes new queries. A counter that
// records every answer as 200 would make a 0% error rate out of any
// outage.
//
// What it needs: kube (logs), prometheus (error rate, alerts), the
// services' URLs; Step 4.4 registers a uniquely named smoke user
// (smoke.userPrefix) and deletes it afterwards.
//
// When it fails: each message names the service, the pod and the log line;
// or the URL, the status and the body; or the query, the value, the window,
// the request count and the threshold. A failed check in Phase 4 means the
// new version is live and misbehaving: the next command is the rollback
// of that deployment's run folder (make rollback ENV=<env> CONFIRM=<env>
// RUN=runs/<timestamp>-<env>); the runbook's trigger is an error
// rate above 1% or broken core functionality.
package postdeploy
