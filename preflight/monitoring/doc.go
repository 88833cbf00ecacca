// Package monitoring is checklist item 7 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 7. Monitoring & Alerting
//	      - Dashboards prepared
//	      - Alert thresholds set
//	      - On-call staff ready
//	      - Error rate baseline established
//
// Dashboards prepared: every dashboard of prometheus.dashboards (the error
// rate and latency dashboards Step 4.5 and the monitoring phase watch)
// answers 200 (a redirect to a login page is not a dashboard). Locally they
// are Prometheus's own pages.
//
// Alert thresholds set: the alert rules Prometheus has loaded compare
// against the runbook's numbers, read back from their expressions
// (metrics.RuleThresholds): GranterErrorRateWarning > thresholds.errorRate
// (0.1%), GranterErrorRateCritical > thresholds.rollbackErrorRate (1%),
// GranterLatencyP95High > thresholds.apiP95 (200ms); none fails to
// evaluate.
//
// On-call staff ready: the deployment's roster (team.roster) lists on-call
// shifts covering the rest of the deployment window without a gap, and
// every on-call person confirmed within team.ackMaxAge:
//
//	runbook checklist ack -file runs/acks-v2.0.0.jsonl -item 7 -sub "On-call staff ready" -by alice
//
// Error rate baseline established: the share of 5xx answers among the
// services' real requests (scrapes, probes and fault switches excluded:
// UserTraffic) over thresholds.baselineWindow (default the last hour),
// with at least thresholds.minSamples requests (fewer is "no data", never a
// healthy zero), and not already above thresholds.errorRate (Step 4.5 would
// then fail whatever the release does). It is recorded in the run's journal
// (phase preflight, step 7) for the comparisons after the deployment.
//
// It needs: prometheus (url, selector, dashboards), team (roster, acks),
// the thresholds. When it fails, the message names the dashboard and its
// status, the rule with the threshold loaded and the runbook's, the gap in
// the on-call cover or the person with the command to confirm, or the
// query, its window and request count.
package monitoring
