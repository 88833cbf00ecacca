// Package runfolder is which run folder a rollback undoes and where its
// "previous images" come from: the ROLLBACK PROCEDURE's "Restore Previous
// Version" (kubectl set image deployment/...=granter/...:v1.9.0) restores
// the images that were running before the release was first deployed.
//
// A deployment run is a run folder whose journal records Phase 1's Step 1.1
// (Final Database Backup) done: a `make preflight` folder (checklist
// entries only) or a folder holding only a rollback's entries is never one.
// Newest picks the newest deployment run of an environment and says why
// (the folder, when the deployment started, the release, the backup), and
// which newer folders it passed over.
//
// Previous finds, per deployment, the image before the release: an
// image.before that already carries the release's tag (a second deployment
// of the same release after a partial attempt) is not one; the earlier
// deployment runs of the same release and environment, oldest first, are
// read for the ones the run cannot tell.
//
// VerifiedBackup proves a deployment run's Step 1.1 backup (Prove: the
// manifest's sha256 and verification, the file still hashing to it): what
// the rollback restores, and what `runbook migrate` and `runbook rollout`
// require in their run folder before they change anything.
//
// It reads journals and backup files only and needs no platform: its tests
// run anywhere.
package runfolder
