// Package rollback is the runbook's ROLLBACK PROCEDURE:
//
//	⛔ Only if critical issues (> 1% error rate or core functionality broken)
//	Step 1: Notify Team              "ROLLBACK IN PROGRESS"
//	Step 2: Scale Down New Deployment kubectl scale deployment/... --replicas=0 (all three)
//	Step 3: Rollback Database         psql granter_db < backup-20260303-140000.sql
//	Step 4: Restore Previous Version  kubectl set image deployment/...=granter/...:v1.9.0
//	Step 5: Verify Rollback           kubectl rollout status deployment/... --timeout=5m
//	Step 6: Run Smoke Tests           all tests should pass on previous version
//	Step 7: Notify Stakeholders       "ROLLBACK COMPLETE - System stable on v1.9.0"
//
//	make rollback ENV=prod CONFIRM=prod [RUN=runs/<timestamp>-prod]
//	make rollback ENV=prod DRY_RUN=1          # the plan and the manual commands only
//	runbook rollback --confirm=prod --run-dir=runs/...
//
// The rollback undoes one deployment run: the one whose run folder it is
// given (RUN=; every line that tells a person to roll back names it), by
// default the newest deployment run (rollback/runfolder: a folder whose
// journal records Phase 1 Step 1.1 done; never a `make preflight` folder
// nor one holding only a rollback), printed with why it was chosen. It reads
// that run's journal and plans from it (PlanFor), then runs the seven steps
// (Run), appending its own entries (phase "rollback", steps "1".."7") to
// the same journal, so the go-live report shows the deployment and its
// rollback together.
//
// Safety, before anything changes (an *exitcode.Refusal, exit code 8):
//   - the backup must be named by the journal (below), its manifest must
//     carry the same sha256 and a successful verification (pgbackup.Verify:
//     restored and compared table by table), and the file must still hash
//     to that sha256; an unverified or altered backup is never restored;
//   - a target with a confirm word (staging, prod) needs it on the command
//     line (CONFIRM=prod on make's command line, or --confirm=prod), or
//     "prod v2.0.0" typed at a terminal (internal/confirm); CONFIRM only
//     exported in the shell is refused. The local platform needs none;
//   - a dry run (DryRun, Options.DryRun) only prints the plan: no journal
//     entry, no message, nothing scaled.
//
// Step 3 never drops or overwrites the live database: pgbackup.Restore
// restores into a NEW database, verifies every table's row count and
// checksum against the backup's manifest, and only then switches names
// (the old database is kept as <db>_before_<time>: what was written since
// the backup is set aside, not lost; drop it once the post-mortem no longer
// needs it). Step 2 has stopped the services first, so no session writes
// into the database being replaced. Step 4 sets the previous images and
// scales the deployments back to their replicas before Step 2 (the
// runbook's "set image" alone would leave them at 0); Step 5 waits for the
// rollouts and for every service's /health to answer at the previous
// version; Step 6 runs the five smoke flows in-process.
//
// # The journal contract (what the deploy records, what the rollback reads)
//
// Data keys of journal.Entry, all strings. The rollback never reads its own
// phase-"rollback" entries for these, except replicas.before:
//
//	backup.file      Step 1.1: the backup file (absolute, or relative to
//	                 backup.dir), with backup.sha256 (hex) and
//	                 backup.verified ("true" once pgbackup.Verify passed;
//	                 any other value refuses). The newest ok Step 1.1 entry
//	                 wins; without one the folder is not a deployment run and
//	                 the rollback refuses. Checklist item 1's entry (file,
//	                 sha256) is read only by the dry run before a deployment.
//	deployment       Phase 3 (Steps 3.1, 3.4, 3.5): the deployment, with
//	image.before     its image before the step (granter/backend-core:v1.9.0)
//	image.after      and after. The earliest image.before per deployment
//	                 whose tag is not the release is what the rollback
//	                 restores; one equal to the release (a second deployment
//	                 after a partial attempt) is skipped, and the earlier
//	                 deployment runs of the release in the same runs folder
//	                 are read for it, oldest first; when none knows it and
//	                 the deployment runs the release, the rollback refuses.
//	                 Record it BEFORE calling
//	                 kube.SetImage (a "started" entry counts), so a run that
//	                 dies during the rollout is still undone.
//	replicas.before  with deployment: the replicas before a step scaled them
//	                 (Step 1.3's drain; the rollback's own Step 2), used when
//	                 the deployment is at 0 when the rollback starts.
//	version          the version being deployed (rolled back from);
//	previous         the version before it (never the release itself): a
//	                 deployment with no image.before returns to
//	                 <service image>:<previous>.
//
// The rollback writes, per step: deployment, replicas.before (Step 2);
// backup.file, backup.sha256, database.previous, tables, rows (Step 3);
// deployment, image.before, image.after (Step 4); deployment, rollout,
// version (Step 5); smoke.<flow> (Step 6); rollback.total and
// rollback.budget (Step 7). Failed steps carry class=rollback. Refusals
// are not journaled (nothing was done; the report would read a rollback
// entry as "a rollback ran").
//
// Team messages (Steps 1 and 7) that cannot be sent do not stop the
// rollback: the system comes first. They are journaled as skipped with the
// reason, printed as WARNING, and the on-call must tell the team by other
// means.
//
// When it fails: the step that failed says why (the deployment and its
// rollout condition; the restore's table, expected vs seen; the flow and
// its step), the team is told "ROLLBACK FAILED — escalate now", and the
// manual command of every step is printed. The database is always either
// the old one or the verified restored one. Run it again once the cause is
// fixed: it plans from the same journal (a deployment already at 0 is
// scaled back to the replicas recorded in the failed run's Step 2).
//
// For AUTO_ROLLBACK (make deploy AUTO_ROLLBACK=1): OnTrigger applies the
// rule (monitor.Decide / monitor.ShouldRollback) and either runs Run or
// prints Command, the exact command to run.
//
// # The tests: proof that the ROLLBACK PROCEDURE really happened
//
// The package's tests prove that after a deployment of v2.0.0 (or the
// drill's broken v2.0.1) and changes to its data, the rollback leaves
//
//   - the database equal to the backup Step 1.1 took: every table's row
//     count and content checksum, read back from the live database;
//   - every deployment on the previous version's image (v1.9.0), its
//     rollout complete and its service answering at v1.9.0;
//   - the five smoke flows passing on v1.9.0;
//
// and that it refuses, changing nothing, without a verified backup in the
// journal (none named, never verified, or a file whose sha256 no longer
// matches) or without the confirmation a production-like target asks for,
// and that a dry run changes nothing. The rollback rule's automatic path is
// tested too: a compressed watch (monitor) over the local
// platform sees the broken v2.0.1 within one round and, with AUTO_ROLLBACK,
// the rollback follows.
//
//	go test -count=1 ./rollback          # the local platform, about 5 minutes
//	go test -count=1 -run TestDrill -v ./rollback   # the drill alone, with its output
//
// The tests start the whole local platform (fixtures/localenv: Postgres,
// the reference services, the Kubernetes control plane, Prometheus, the
// webhook sink) once for the package and reset its database between
// tests. They are destructive, so they are local only (build tag); against
// staging or prod the rollback is run with `make rollback` and verifies
// itself (Step 3 compares the restored database with the backup before
// switching, Steps 5 and 6 check the versions and run the smoke flows).
//
// `BenchmarkRollback1M` measures each step and the total on a 1,000,000-row
// grants table against the runbook's 15 minutes (BENCHMARKS.md).
package rollback
