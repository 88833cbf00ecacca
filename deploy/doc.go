// Package deploy is the runbook's DEPLOYMENT STEPS (14:00 - Deployment
// Start) as one sequence of actions, each followed by its check:
//
//	Phase 1: Pre-Deployment (14:00-14:15)       1.1 final backup, 1.2 notify, 1.3 drain, 1.4 no active connections
//	Phase 2: Database Migration (14:15-14:25)   2.1 run pending migrations, 2.2 verify, 2.3 database health
//	Phase 3: Deploy Services (14:25-14:40)      3.1-3.5 set image, wait for the rollout (5m), health, per service
//	Phase 4: Post-Deployment Validation (14:40-15:00)  4.1 smoke, 4.2 logs, 4.3 health, 4.4 spot checks, 4.5 error rate
//
// preceded by the pre-deployment checklist as a gate. Plan builds the steps
// for a target and a version; Run runs them in order and stops at the first
// that fails, saying which phase and step failed, what was seen, what the
// run already changed on the target, and the next command: `make rollback
// ENV=<env> RUN=<this run's folder>` once the database or the images
// changed.
//
// Every step prints what it does, the runbook's equivalent manual command
// for this target, progress on long waits and its result, and appends an
// entry to the run journal (internal/journal; the keys internal/report
// reads: backup.file, backup.sha256, replicas.before, image.before,
// image.after, migrations.applied, migrations.new, ...). Each phase's
// duration is compared with the runbook's window.
//
// Safety: a target with a confirmation word (staging, prod) refuses every
// step that changes it unless the caller passes that word from the command
// line (CONFIRM=prod on make's command line, or --confirm=prod) or a person
// types the environment and version at a terminal (internal/confirm);
// CONFIRM only exported in the shell is refused, before anything is touched. DryRun
// prints the whole plan with the manual commands and touches nothing: no
// request, no connection, not even to read.
//
// Two runbook gaps are closed here and said so in the output: Step 1.3
// scales backend-core to 0 and Phase 3 never scales it back (Step 3.1
// restores the replica count recorded before the drain), and Step 1.4's
// `ps aux | grep node` cannot see a cluster (it reads pg_stat_activity).
//
// The gates (preflight, Phase 4) are steps too, run in this process as the
// same library code their go test packages run: PreflightGate (the 8
// items, PreflightItems) and InProcessPhase4 (the smoke flows, the
// postdeploy checks). Each writes the run folder's evidence as go test
// would have (preflight.json, smoke.json, postdeploy.json in go test -json
// format, their .junit.xml, checklist.txt: State.Evidence), so that
// nothing is compiled at deploy time.
package deploy
