// Package k8s holds the Kubernetes manifests that run the runbook inside the
// cluster: monitor-job.yaml, "MONITORING PHASE: watch the key metrics for 4
// hours" as a Job that survives the CI runner or laptop going away, and
// monitor-access.yaml, the ServiceAccount, Role (read only, what the watch
// reads), RoleBinding and run-folder volume it needs.
//
// Its tests prove the manifests keep to the runbook (no retries, a deadline
// longer than the watch, secrets only from a Secret by name, read-only
// access to the services of environments/prod.yaml) and that the local API
// server accepts them (server-side dry run, fixtures/kubelab; needs `make
// kube-tools`). When one fails, the message names the object and the field.
package k8s
