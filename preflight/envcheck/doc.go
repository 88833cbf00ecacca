// Package envcheck is checklist item 5 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 5. Environment Validation
//	      - Staging deployment successful
//	      - Staging smoke tests passed
//	      - Production secrets ready
//	      - Database migration scripts ready
//
// Staging deployment successful: staging runs VERSION: every service's
// deployment has the image <service image>:VERSION and has rolled out,
// read through staging.kubeContext, or from staging.deployRecord (the record
// of the last staging deployment; locally a fixture writes it).
//
// Staging smoke tests passed: the record of a smoke run of VERSION against
// staging (staging.smokeRecord, written by `runbook checklist
// record-smoke`) shows the five flows passed.
//
// Production secrets ready: every Kubernetes secret of kube.secrets exists
// with every key it lists, non-empty (names and lengths only: no value is
// read into a message). A target without Kubernetes access fails this
// sub-item: nothing else can prove it.
//
// Database migration scripts ready: the migrations the migrator reports
// pending on the target database (migrations.statusCommand) are exactly
// migrations.expected, in order, and they apply cleanly
// (migrations.command) to a restored copy of the fresh backup (the newest
// in backup.dir younger than thresholds.backupMaxAge, else a new one) in a
// scratch database, after which none is pending. The migrator gets the
// database as DATABASE_URL in its environment, never on its command line;
// it runs in code.repo when set. The scratch database is dropped.
//
// When it fails, the message names the deployment and image, the record
// and what it says, the secret and the missing keys, or the migration and
// the migrator's error.
package envcheck
