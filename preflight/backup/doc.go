// Package backup is checklist item 1 of the PRE-DEPLOYMENT CHECKLIST:
//
//	[ ] 1. Database Backup
//	      - Full backup taken
//	      - Backup verified & downloadable
//	      - Backup time: ___________
//
// Full backup taken: a pg_dump of the target's database in custom format,
// taken now (locally inside the Postgres container, as the runbook's
// `docker exec postgres pg_dump` does), into backup.dir, with every table's
// row count and checksum from the same snapshot (internal/pgbackup).
//
// Backup verified & downloadable: the file exists, is not empty, has the
// size and sha256 its manifest recorded, and is readable by its owner only
// (0600); restored into a scratch database it gives back every table with
// the rows and checksum of the dump.
//
// Backup time: the newest backup in backup.dir was taken less than
// thresholds.backupMaxAge ago; its time fills the runbook's blank.
//
// It needs: database (urlEnv; locally the platform's container), backup.dir,
// thresholds.backupMaxAge, and a database user allowed to CREATE DATABASE
// (the scratch copy; backup.scratchURLEnv points the verification at
// another server). When it fails: a dump error names pg_dump's message; a
// sha256 mismatch means the file changed after it was taken (take a new
// one); a table mismatch names the table, rows and checksum expected and
// seen; a mode other than 0600 is fixed with `chmod 600 <file>`.
package backup
