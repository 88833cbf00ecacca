// Package infra is checklist item 2 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 2. Infrastructure Check
//	      - All services healthy
//	      - Monitoring enabled
//	      - Logging operational
//	      - Alerts configured
//
// All services healthy: every service's health endpoint (services[].health,
// /health) answers 200 {"status":"healthy"} with every dependency "up", and
// every service's Deployment is available: scaled above zero, its rollout
// complete (every replica updated and available, as `kubectl rollout
// status` judges it) and its Available condition true.
//
// Monitoring enabled: Prometheus (prometheus.url) answers, and every
// service has a scrape target (by job or service label) that is up. Down
// targets of other jobs are logged, not counted: they are not Granter's.
//
// Logging operational: each service's pods (`kubectl logs -l app=<service>
// --since=<thresholds.logWindow>`, through the API) wrote at least one log
// line in the last thresholds.logWindow (default 5m). Services log every
// request, and probes and scrapes are requests: silence means the logging
// is broken, not that nothing happened.
//
// Alerts configured: Prometheus has loaded the alert rules the runbook's
// thresholds imply (metrics.AlertErrorRateCritical, AlertErrorRateWarning,
// AlertLatencyP95High) and none fails to evaluate. Their thresholds are
// item 7's business ("Alert thresholds set").
//
// It needs: services[].url, kube (kubeconfig, namespace), prometheus.url.
// When it fails, the message names the service and what its health answered,
// the deployment and why it is not available (the condition, the pods of the
// newest ReplicaSet and their waiting reason), the scrape target and its
// last error, the service that logged nothing, or the rule that is missing.
package infra
