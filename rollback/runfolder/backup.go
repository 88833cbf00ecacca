package runfolder

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/pgbackup"
)

// VerifiedBackup is the backup a deployment run's Step 1.1 took, proven
// (Prove): what the rollback restores, and what `runbook migrate` and
// `runbook rollout` require before they change anything. dir is the run
// folder, entries its journal; backupDir (backup.dir) resolves a relative
// file name, else the run folder does; database is the database it must
// be of. The error says what is missing or wrong.
func VerifiedBackup(dir string, entries []journal.Entry, backupDir, database string) (pgbackup.Backup, string, error) {
	e, ok := journal.Last(entries, IsBackupStep)
	if !ok {
		return pgbackup.Backup{}, "", fmt.Errorf("the journal %s records no Step 1.1 \"Final Database Backup\" done (an ok phase1 entry with %s and %s): this run folder has no backup to roll back to",
			filepath.Join(dir, journal.FileName), journal.KeyBackupFile, journal.KeyBackupSHA256)
	}
	return Prove(e, e.Data[journal.KeyBackupFile], e.Data[journal.KeyBackupSHA256], backupDir, dir, database)
}

// Prove checks the backup file (with its sha256 sum) that the journal
// entry named: the entry does not say it failed verification, its
// manifest carries the same sha256 and a successful verification (a
// restore compared table by table) of database, and the file still hashes
// to it. It returns the backup and where it was named ("journal phase1
// Step 1.1 (..., time)").
func Prove(named journal.Entry, file, sum, backupDir, runDir, database string) (pgbackup.Backup, string, error) {
	from := fmt.Sprintf("journal %s Step %s (%s, %s)", orDash(string(named.Phase)), named.Step, named.Action, named.Time.Format(time.RFC3339))
	if v := named.Data[journal.KeyBackupVerified]; v != "" && v != "true" {
		return pgbackup.Backup{}, from, fmt.Errorf("the backup %s was not verified (%s=%q in %s): an unverified backup is never restored; verify it (checklist item 1) or take a new one", file, journal.KeyBackupVerified, v, from)
	}
	if sum == "" {
		return pgbackup.Backup{}, from, fmt.Errorf("%s names the backup %s without its sha256 (%s): its integrity cannot be proven", from, file, journal.KeyBackupSHA256)
	}
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(backupDir, file)
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(runDir, file)
		}
	}
	b, err := pgbackup.ReadManifest(path + ".json")
	if err != nil {
		return pgbackup.Backup{}, from, fmt.Errorf("the backup %s named by %s has no readable manifest (%v): its row counts and checksums, needed to verify the restore, are unknown", file, from, err)
	}
	switch {
	case b.SHA256 != sum:
		return pgbackup.Backup{}, from, fmt.Errorf("the journal recorded sha256 %s for %s but its manifest says %s: they are not the same backup", short(sum), file, short(b.SHA256))
	case b.Verified == nil:
		return pgbackup.Backup{}, from, fmt.Errorf("the backup %s (%s) was never verified: its manifest records no successful restore; an unverified backup is never restored (verify it: checklist item 1)", file, from)
	case b.Database != database:
		return pgbackup.Backup{}, from, fmt.Errorf("the backup %s is of database %s, not %s", file, b.Database, database)
	}
	if err := pgbackup.CheckIntegrity(b); err != nil {
		return pgbackup.Backup{}, from, fmt.Errorf("the verified backup named by %s no longer matches: %v", from, err)
	}
	return b, from, nil
}

func short(sha string) string {
	if len(sha) > 16 {
		return sha[:16] + "…"
	}
	return sha
}
