// Package report is the runbook's last section, SUCCESS CRITERIA: "If ALL
// above are true → GO-LIVE APPROVED ✅". It reads a run folder and says,
// for each of the eleven criteria, MET, NOT MET or NOT EVALUATED with the
// evidence behind it, and gives the verdict: GO-LIVE APPROVED only when
// every criterion is met, no step or gate failed and no rollback ran, and
// criterion 11 rests on the runbook's whole 4-hour watch. A run whose watch
// was compressed on a rehearsal target (rehearsal: true in its file) gets
// REHEARSAL PASSED instead: exit 0, never a go-live approval.
// Anything not evaluated is never counted as met.
//
//	make report RUN=runs/20260303-140000-prod     # or: bin/runbook-report RUN
//
// writes RUN/report.md and RUN/report.html (self-contained: inline CSS and
// an inline SVG timeline, no external assets): the verdict first, then the
// criteria that block it with their evidence, what failed first and the
// command to run next, the checklist, the timeline of the phases (the
// runbook's planned windows vs what the journal recorded, overruns in red),
// every journal step and every gate's checks. It exits with the code of
// the failure class that failed first (internal/exitcode; README "Exit
// codes"), so CI can branch on it. It also enriches every
// RUN/<gate>.junit.xml (internal/junit), so the files CI shows carry the
// evidence.
//
// # The run folder (the contract with the deploy CLI and the gates)
//
//	runs/<timestamp>-<env>/
//	  journal.jsonl          internal/journal entries, written by the deploy CLI
//	  <gate>.json            `go test -json` output of a gate
//	  <gate>.junit.xml       gotestsum --junitfile of the same run (optional)
//
// Gates: preflight, smoke, postdeploy, monitor, rollback. Phases 1-3 are
// journal only.
//
// Journal entries (journal.Entry). Phase is one of preflight, phase1,
// phase2, phase3, phase4, monitor, rollback. Time is when the step ended;
// Started (or Duration) when it began: the timeline is built from them.
// Status "ok" is the only success; "failed" carries Error; "skipped" and
// "dry-run" prove nothing and never count as done. Manual is the runbook's
// command for the step: the report prints it beside a failure. Data keys
// the report reads (values are strings):
//
//	any entry       version, previous (the version before), services (comma
//	                list, deploy order; default backend-core,data-service,web-frontend),
//	                class (overrides the failure class of a failed entry:
//	                config, preflight, deploy, smoke, slo, rollback)
//	phase2          migrations.applied (comma list: every migration in
//	                "success" state after Step 2.2), migrations.expected (comma
//	                list; default: the runbook's six), migrations.new (applied
//	                by this run)
//	phase3          deployment + image.before + image.after (Steps 3.1, 3.4,
//	                3.5: image set); deployment + rollout=complete (+ ready,
//	                e.g. "3/3") (the rollout status waits)
//	Step 3.3, 4.3   health checks: url, status (HTTP status), body
//	Step 4.4        endpoints: the spot checks, e.g. "GET /auth/me 200; GET /search?query=test 200"
//	phase4, monitor error_rate (a ratio, "0.0004", or a percentage, "0.04%"),
//	                error_rate.query, error_rate.window, error_rate.requests,
//	                error_rate.threshold (default 0.001, the runbook's 0.1%)
//	                alerts.critical (count firing or fired), alerts.critical.names,
//	                alerts.query
//	                log.errors (ERROR lines, Step 4.2), sql.errors (SQL errors in
//	                the logs), sql.errors.sample, logs.query
//	monitor         p95, p95.threshold (durations "120ms", or seconds), cpu,
//	                cpu.threshold ("38%", "70%"), connections,
//	                connections.threshold, db.query, db.query.threshold, ...:
//	                on any entry, any key K with a K.threshold is checked as
//	                K < K.threshold (criterion 11; error_rate has its own);
//	                monitor.window on the watch's last entry (status ok) says
//	                the watch finished and how long it watched
//	                A step may journal Status "started" first; its final entry
//	                (same Phase and Step) decides. One never closed is a
//	                failure: the run stopped during that step.
//
// Gate tests (go-test JSON; test names as the runbook reads):
//
//	smoke       TestAuth, TestSearch, TestScraper, TestIA, TestHealth (flow.RunT:
//	            one subtest per step, TestAuth/register, TestAuth/login, ...)
//	postdeploy  TestLogs (Step 4.2), TestHealthChecks (4.3),
//	            TestCriticalEndpoints (4.4), TestErrorRate (4.5),
//	            TestNoCriticalAlerts, TestNoSQLErrors
//	monitor     any test; a failed one fails "stable metrics"
//	preflight   the checklist items (internal/checklist)
//	rollback    any test; a failed one is a failed rollback
//
// # The criteria and their evidence
//
//  1. All services deployed without errors: no phase1-3 entry failed; every
//     service has its image set (image.after) and its rollout complete.
//  2. Database migrations completed: migrations.applied holds every
//     expected migration, no phase2 entry failed.
//  3. All health checks passing: smoke TestHealth, postdeploy
//     TestHealthChecks, Steps 3.3 and 4.3; at least one, none failed.
//  4. All 5 smoke tests passing: the five smoke tests passed, none of their
//     steps skipped.
//  5. Error rate < 0.1%: every error_rate recorded below its threshold,
//     postdeploy/monitor TestErrorRate passed.
//  6. No critical alerts triggered: every alerts.critical is 0,
//     TestNoCriticalAlerts passed.
//  7. Users can register/login: TestAuth/register and TestAuth/login passed.
//  8. Users can search grants: TestSearch and all its steps passed.
//  9. All API endpoints responding: TestCriticalEndpoints or Step 4.4, none
//     failed.
//  10. No SQL errors in logs: every sql.errors is 0, TestNoSQLErrors passed.
//  11. Monitoring shows stable metrics: the watch finished (monitor.window
//     on an ok entry, or a monitor gate whose tests all passed), no monitor
//     entry or test failed, every K below its K.threshold.
//
// A criterion with no evidence at all is NOT EVALUATED, and says which key
// or test would have been its evidence.
//
// # When the verdict is NOT APPROVED
//
// Read the criteria at the top: each names what was expected and what was
// seen, and where (journal step, gate test). "What failed first" is the
// earliest failure in time: the cause, usually; later failures often follow
// from it. The next command is `make rollback ENV=<env> CONFIRM=<env>
// RUN=<the run folder>` when the database or the images changed, else the command that reruns
// what failed. Every string in the report passes through a redactor
// (RedactCommon, plus the target's own when given): the report shows no
// secret even when a journal or a test output let one through.
package report
