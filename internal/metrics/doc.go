// Package metrics reads the platform's Prometheus for the runbook's metric
// lines:
//
//	Step 4.5: Monitor Error Rate — "Error Rate should be < 0.1%"
//	Monitoring phase — "Error rate: < 0.1%", "API response time: < 200ms (p95)",
//	  "Memory usage: stable", "CPU usage: < 70%"
//	Rollback procedure — "Only if critical issues (> 1% error rate ...)"
//	Checklist 2 and 7 — "Monitoring enabled", "Alerts configured",
//	  "Alert thresholds set"
//	Success criteria — "No critical alerts triggered"
//
// It needs the Prometheus HTTP API URL (target.Prometheus.URL) and a label
// selector that picks Granter's series (target.Prometheus.Selector, e.g.
// `namespace="granter"` or `service="backend-core"`). It speaks only the
// Prometheus HTTP API (client_golang's api package); every call has its own
// deadline.
//
// Measurements never report a healthy zero for missing traffic: when fewer
// than minSamples requests were seen in the window, ErrorRate and LatencyP95
// return an error that matches ErrNoData ("no data: 0 requests in 5m (need >=
// 100)"). Check failures print the measurement, its query, window, request
// count and the threshold, so the on-call engineer can paste the query into
// the dashboard.
//
// When a check fails:
//   - "above threshold": the platform is unhealthy; Step 4.5 says stop, the
//     rollback trigger is > 1% (see ROLLBACK PROCEDURE).
//   - "no data": the services are not scraped or get no traffic; look at
//     Targets (which names down targets and their last scrape error).
//   - rule threshold mismatch: the loaded alert rules disagree with the
//     runbook's numbers; fix the rules file before deploying.
//
// Known limit of rate(): a counter series first seen inside the window hides
// its first value from rate()/increase(). Services must create their status
// series at zero at start-up (the reference services do) or errors that
// happened before the first scrape of a new series are not counted.
package metrics
