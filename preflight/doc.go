// Package preflight is the runbook's PRE-DEPLOYMENT CHECKLIST (13:00 - 2
// hours before): "Checklist (Must complete ALL before proceeding)". Each of
// the 8 items is one package below, and `go test ./preflight` runs all 8 in
// the runbook's order; `make preflight ENV=local|staging|prod` runs it into
// a run folder and prints the checklist (runbook checklist):
//
//	[x] 1. Database Backup
//	      ✅ Full backup taken: backup-20261126-130004.dump: 12.3 MB, 7 tables, ...
//	      ...
//	Status: ☑️ ALL COMPLETE → Proceed
//
// or "Status: BLOCKED" and every blocker, exiting 3 (2 on a configuration
// error). A sub-item that failed, was skipped or did not run is a blocker:
// only evidence completes an item.
//
// The items: 1 backup, 2 infra, 3 team, 4 code, 5 envcheck, 6 rollbackprep,
// 7 monitoring, 8 loadbalancer (checklist.Items names them).
//
// # Adding an item
//
//  1. Create preflight/<package> (the name in checklist.Items) with a
//     doc.go that quotes the item as the runbook writes it, what it needs
//     and what to do when it fails.
//  2. Export New(tgt *target.Target, opts ...Option) flow.Flow that returns
//     checklist.Flow(tgt, n, map[string]checklist.Check{...}) with one check
//     per sub-item, keyed by the runbook's words (checklist.Items[n-1].Subs;
//     Flow panics on a missing or misspelt one). Every step is Independent:
//     share state between sub-items through the item's struct, and when a
//     sub-item needs what another failed to provide, return
//     checklist.NotChecked(...) (shown ⚠, a blocker), never nil.
//  3. A check proves its sub-item from evidence: it records details with
//     r.Logf and ends with checklist.Evidence(r, ...), the one line the
//     printed checklist shows beside ✅. A failure returns an error naming
//     what was expected and what was seen (the file, the commit, the
//     deployment) and the fix. A check that needs a human records the human
//     part as an Ack (checklist.AppendAck, `runbook checklist ack`) and
//     verifies the record with checklist.FindAck.
//  4. Configuration the item needs goes into internal/target (file.go,
//     load.go with validation, target.go, a case in target_test.go) and the
//     three environments/*.yaml; local values the fixtures make are filled in
//     by a suite.LocalSetup (see fixtures/preflightlab).
//  5. Tests in the item's package: <item>_test.go runs New with flow.RunT
//     against the target (TestMain: suite.Main, with the local setups in
//     main_local_test.go); faults_test.go (local only) breaks what each
//     sub-item guards and asserts with checklist.AssertOnlyFails that exactly
//     that sub-item fails, naming the cause.
//  6. In this package's preflight_test.go, replace the item's placeholder
//     with flow.RunT(t, <package>.New(tgt)), and add its local setups to
//     main_local_test.go.
//
// Locally (no tag) fixtures/localenv starts the whole platform at v1.9.0,
// production as it is before the deployment (the services, Postgres,
// Prometheus, the webhook sink, a Kubernetes control plane driving the
// services), with the evidence fixtures/preflightlab makes: a git checkout
// tagged VERSION, the CI status, the staging records and rollback drill,
// the migrator as a command, the secrets, the roster and the team's
// confirmations, a TLS endpoint with a test CA, the dashboards and baseline
// traffic (see fixtures/preflightlab/doc.go).
//
// RUNBOOK_VERSION is the version to deploy (make sets it from VERSION);
// RUNBOOK_RUN_DIR, when set, is the run folder whose journal records the
// backup taken.
package preflight
