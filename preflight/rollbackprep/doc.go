// Package rollbackprep is checklist item 6 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 6. Rollback Preparation
//	      - Rollback scripts prepared
//	      - Previous version identified
//	      - Rollback tested (on staging)
//	      - Estimated rollback time: 15 minutes
//
// Rollback scripts prepared: the ROLLBACK PROCEDURE's dry run
// (rollback.DryRun, what `make rollback DRY_RUN=1` runs) plans
// every step from the run folder's journal or, before the deployment, from
// the current state: a verified backup whose file still has its sha256, the
// image each deployment returns to, each step's manual command (printed);
// and the team channel the procedure's Steps 1 and 7 post to is configured.
//
// Previous version identified: the images the Deployments run now (what a
// rollback returns to) are every service's image repository at one and the
// same version, which is not VERSION.
//
// Rollback tested (on staging): the record of a rollback drill of VERSION
// on staging (staging.rollbackRecord, "{version}" replaced) says it
// succeeded, no longer than staging.rollbackMaxAge (default 7 days) ago.
//
// Estimated rollback time: the procedure's parts, each from a measurement
// where there is one: the scale-down's graceful shutdown
// (thresholds.drainGrace, or the drill's if longer), the database restore
// (the newest verified backup's size at the restore rate measured when it
// was verified: restore plus table comparison), the rollout (the longest
// of the deployments' last rollouts, read from the cluster: newest
// ReplicaSet created to Progressing NewReplicaSetAvailable; else the
// drill's), the smoke tests (the drill's; else assumed 5 minutes) and the
// two messages. The sum must be within thresholds.rollbackBudget (the
// runbook's 15 minutes); the estimate is printed with its parts.
//
// It needs: database and backup.dir (item 1's verified backup), kube,
// webhook, staging.rollbackRecord, thresholds.drainGrace and rollbackBudget.
// RUNBOOK_RUN_DIR, when set, is the run folder whose journal the dry run
// reads. When it fails: the message names the refusal of the dry run (the
// backup, the deployment), the deployments and their images, what the drill
// record says, or the estimate's parts against the budget.
package rollbackprep
