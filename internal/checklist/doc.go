// Package checklist is the runbook's PRE-DEPLOYMENT CHECKLIST ("Checklist
// (Must complete ALL before proceeding): [ ] 1. Database Backup ...
// Status: ☑️ ALL COMPLETE → Proceed") as data, as flows, and as the
// printed result of `make preflight`.
//
// Items lists the 8 items and their sub-items in the runbook's words. Each
// item is one package under preflight/ whose New returns Flow(tgt, n,
// checks): one step per sub-item, named after it (the subtest
// TestDatabaseBackup/Full_backup_taken), every step Independent so one
// failing sub-item never hides the others. A check proves its sub-item from
// evidence and says what it saw with Evidence; a failure returns an error
// saying what was expected and what was seen; a check that cannot run
// because another sub-item failed returns NotChecked.
//
// Render reads the `go test -json` output of ./preflight and prints the
// checklist as the runbook shows it: [x] or [ ] per item, ✅ / ❌ / ⚠ per
// sub-item with the evidence or the reason, then "Status: ☑️ ALL COMPLETE →
// Proceed" or "Status: BLOCKED" and the blockers. A sub-item that was
// skipped, not run or is missing from the output is ⚠ NOT CHECKED, and a
// blocker: only evidence completes an item.
//
// The records some checks read live here too: the staging smoke run
// (SmokeRecord, written by `runbook checklist record-smoke`), the last
// staging deployment (DeployRecord) and a person's confirmation of the
// human part of a sub-item (Ack, written by `runbook checklist ack`).
//
// Adding an item: see preflight/doc.go.
package checklist
