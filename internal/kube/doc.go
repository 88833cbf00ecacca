// Package kube encodes the runbook's kubectl lines as client-go calls:
// "kubectl scale deployment/backend-core --replicas=0" (Scale, WaitNoPods),
// "kubectl set image deployment/backend-core backend-core=granter/backend-core:v2.0.0"
// (SetImage), "kubectl rollout status deployment/backend-core --timeout=5m"
// (WaitRollout), the previous version for rollback (PreviousRevision), the
// error scan of pod logs (PodLogs, ScanErrors) and the checklist's
// secrets / load balancer / health check items (CheckSecretKeys,
// CheckServiceEndpoints, CheckIngress, CheckProbes).
//
// Every call takes a context with the deadline of its runbook step; waits
// follow watches (client-go's watchtools.UntilWithSync), not sleeps. Errors are typed and print what was expected
// and what was seen, with the namespace/name and, for rollouts, the
// condition reason and message and the waiting reasons of the new pods.
// Secret values are never read into errors or logs.
package kube
