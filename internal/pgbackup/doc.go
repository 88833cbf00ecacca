// Package pgbackup is the runbook's database backup: checklist item 1
// ("Full backup taken / Backup verified & downloadable / Backup time"),
// Step 1.1 ("docker exec postgres pg_dump -U granter granter_db >
// backup-$(date +%Y%m%d-%H%M%S).sql ✅ Backup created and verified") and the
// rollback's Step 3 ("psql granter_db < backup-20260303-140000.sql").
//
// Three calls:
//   - Dump takes a full backup in pg_dump's custom format into
//     backup-YYYYMMDD-HHMMSS.dump (mode 0600) and, in the same snapshot,
//     every table's row count and content checksum, and the Access: every
//     object's owner and privileges, the default privileges, the
//     database's owner, privileges and settings (ALTER DATABASE ... SET,
//     ALTER ROLE ... IN DATABASE ... SET, which no pg_dump of one database
//     carries), the extensions, and the definition of every index, key,
//     trigger and row-level policy; it writes a manifest
//     (backup-....dump.json: sha256, size, time, tables, access) beside the
//     file.
//   - Verify proves the backup restores exactly: the file still has its
//     sha256, the roles it names exist, pg_restore WITH owners and
//     privileges into a new scratch database succeeds, the database-level
//     owner, privileges and settings are applied, and every table there has
//     the row count and checksum and every object the owner and privileges
//     recorded at dump time. The scratch database is dropped afterwards;
//     the manifest records the verification. DumpVerified (Step 1.1,
//     checklist item 1) does both in one pass: the dump's output is
//     restored as it is written, without the post-data section; once the
//     data are proven equal, the post-data section is applied from the file
//     to the same copy emptied, and the definitions are compared. The
//     indexes are not built again on the data: the source's own valid
//     indexes and constraints already hold on data proven equal.
//   - Restore puts a backup back safely: into a NEW database, verified like
//     Verify, and only then switched in by renaming (the old database is
//     kept, renamed, never half-dropped). An interrupted switch is settled
//     at once; one killed half-way is repaired by the next Restore
//     (RecoverSwitch).
//
// The roles: the URL's role (the runbook's) needs CREATEDB, membership in
// every role that owns something in the database (to give the objects back
// to their owners) and, for role-specific database settings, superuser or
// CREATEROLE. Roles are cluster-wide and not in a backup: a role the backup
// names that is missing on the server is refused before any change
// (*MissingRolesError).
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
