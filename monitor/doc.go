// Package monitor is the runbook's MONITORING PHASE (15:00 - next 4 hours):
//
//	First 30 minutes: monitor every 5 minutes; watch error rate and latency
//	Second 30 minutes: every 10 minutes; check user logins working, search
//	Hours 2-4: every 30 minutes; database performance, API response times
//	Key Metrics to Watch: error rate < 0.1%, API response time < 200ms (p95),
//	database query time < 100ms, memory usage stable, CPU usage < 70%,
//	active connections < 100
//
// and the rollback trigger it feeds: "⛔ Only if critical issues (> 1%
// error rate or core functionality broken)".
//
//	make monitor ENV=prod                          # the 4 hours, as written
//	make monitor ENV=local SCHEDULE="10s x6"       # a drill: one minute
//	make monitor ENV=local COMPRESS=240            # the runbook's schedule, 240x faster
//
// The schedule (RunbookSchedule, "5m x6, 10m x3, 30m x6") has a round at
// the start and one at the end of every interval; each round looks back
// over its interval, so together they cover the whole watch. Drills give
// their own ("10s x6") or compress the runbook's (Schedule.Compress). The
// watch waits between rounds on timers under its context: cancelling it
// stops the watch at once.
//
// Every round checks, with the target's thresholds (environments/<env>.yaml):
//
//	error rate          Prometheus, http_requests_total 5xx / all over the window
//	API p95             Prometheus, http_request_duration_seconds histogram
//	database query time the services' granter_db_query_duration_seconds p95
//	                    (Prometheus) and, where the extension is loaded,
//	                    pg_stat_statements' mean execution time since the
//	                    previous round; both must be below (the source used is
//	                    named in every round)
//	active connections  pg_stat_activity: client sessions on the database
//	memory stable       least-squares slope of process_resident_memory_bytes
//	                    since the watch began, projected over the whole watch,
//	                    below Options.MemoryGrowth (25%) of the mean; a fit with
//	                    r² < 0.5 is GC noise, not growth
//	CPU                 rate(process_cpu_seconds_total) per service, as a share
//	                    of the CPU its pods may use (Options.CPULimits: the
//	                    Deployment's limit; else one core)
//	critical alerts     none firing (success criterion)
//	logins, search      the smoke flows auth and search, in-process (uniquely
//	                    named data, deleted afterwards)
//
// A check with too few requests in its window (thresholds.minSamples) is NO
// DATA and fails the round like a breach: silence is never healthy. A check
// the target cannot make (no database access) is skipped, listed, never
// counted as passed.
//
// What it needs: the target's Prometheus (prometheus.url, selector),
// database access for connections and pg_stat_statements, the services'
// URLs for the light smoke round. Local drills have no users: internal/traffic
// sends steady read-only requests (refused on a read-only target).
//
// Every round is printed and, with Options.Journal, journaled (phase
// "monitor", step "round N/M", Data keys error_rate, p95, db.query, cpu,
// connections, memory.growth, each with .threshold and .query, plus
// alerts.critical and smoke.auth / smoke.search); the last entry (step
// "watch") carries monitor.window when the watch finished clean.
//
// When a round fails: its lines name each failing metric, the value, the
// threshold and the query to paste into the dashboard. The watch stops
// (exit code 6, SLO) and says whether the rollback rule fired
// (ShouldRollback: error rate above thresholds.rollbackErrorRate, or a
// smoke flow failed). If it did: `make rollback ENV=<env> RUN=<the run
// folder watched>` (AUTO_ROLLBACK=1 runs it); if not (p95, CPU, memory, a small error rate): look at the
// dashboards and decide with the tech lead; the runbook rolls back only on
// critical issues.
package monitor
