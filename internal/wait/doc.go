// Package wait is the runbook's one way to wait for a condition that has no
// event to follow (an HTTP answer, a query result): it polls through
// apimachinery's wait.PollUntilContextTimeout, keeps the last state seen,
// and on timeout says what it waited for and that state. Waits on
// Kubernetes objects follow a watch instead (client-go watchtools, in
// internal/kube).
package wait
