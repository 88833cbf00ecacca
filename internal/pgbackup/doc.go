// Package pgbackup is the runbook's database backup: checklist item 1
// ("Full backup taken / Backup verified & downloadable / Backup time"),
// Step 1.1 ("docker exec postgres pg_dump -U granter granter_db >
// backup-$(date +%Y%m%d-%H%M%S).sql ✅ Backup created and verified") and the
// rollback's Step 3 ("psql granter_db < backup-20260303-140000.sql").
//
// Three calls:
//   - Dump takes a full backup in pg_dump's custom format into
//     backup-YYYYMMDD-HHMMSS.dump (mode 0600) and, in the same snapshot,
//     every table's row count and content checksum; it writes a manifest
//     (backup-....dump.json: sha256, size, time, tables) beside the file.
//   - Verify proves the backup restores: the file still has its sha256,
//     pg_restore into a new scratch database succeeds, and every table there
//     has the row count and checksum recorded at dump time. The scratch
//     database is dropped afterwards; the manifest records the verification.
//   - Restore puts a backup back safely: into a NEW database, verified, and
//     only then switched in by renaming (the old database is kept, renamed,
//     never half-dropped).
//
// Latest and LatestVerified find the newest backup of a folder from the
// manifests, for Step 1.1 and the rollback.
//
// Where the tools run: locally (Server.Container set) pg_dump and pg_restore
// run inside the Postgres container through `docker exec`, as the runbook
// does; elsewhere the host's PostgreSQL 15 client tools run. The database
// URL is handed to them as PG* environment variables, never on a command
// line, and never printed (errors are redacted).
//
// When it fails: the error names the step (dump, restore, compare), the
// database, and for a mismatch each table with what was expected and what
// was seen. A sha256 mismatch means the file changed after it was taken
// (corruption, truncation during a copy): take a new backup.
package pgbackup
