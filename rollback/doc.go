// Package rollback holds the tests that prove the ROLLBACK PROCEDURE really
// happened: after a deployment of v2.0.0 (or the drill's broken v2.0.1) and
// changes to its data, the rollback (internal/rollback) leaves
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
// tested too: a compressed watch (internal/monitor) over the local
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
