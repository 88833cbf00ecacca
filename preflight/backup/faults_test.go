//go:build !staging && !prod

package backup_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/preflight/backup"
)

// The fault tests run locally only: they damage backups on purpose.

// Each fault breaks what one sub-item guards: that sub-item fails naming
// the cause, the others pass.
func TestDatabaseBackupFaults(t *testing.T) {
	cases := []struct {
		name, sub string
		opts      []backup.Option
		want      []string
	}{
		{"corrupt backup file", backup.BackupVerified,
			[]backup.Option{backup.WithAfterDump(func(b pgbackup.Backup) error { return flip(b.Path, b.Size/2) })},
			[]string{"not verified", "sha256", "the file changed after it was taken"}},
		{"backup readable by others", backup.BackupVerified,
			[]backup.Option{backup.WithAfterDump(func(b pgbackup.Backup) error { return os.Chmod(b.Path, 0o644) })},
			[]string{"mode 0644", "open to others than its owner", "chmod 600"}},
		{"restored copy lost rows", backup.BackupVerified,
			[]backup.Option{backup.WithBackupOptions(pgbackup.WithAfterRestore(deleteOneGrant))},
			[]string{"not verified", "table grants:", "rows restored", "at dump time"}},
		{"stale backup", backup.BackupTime,
			[]backup.Option{backup.WithClock(func() time.Time { return time.Now().Add(3 * time.Hour) })},
			[]string{"was taken at", "3h0m", "older than thresholds.backupMaxAge 2h0m0s", "take a new one"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := flow.Run(t.Context(), backup.New(tgt, append(c.opts, backup.WithDir(t.TempDir()))...))
			checklist.AssertOnlyFails(t, res, c.sub, c.want...)
		})
	}
}

// A backup whose manifest is lost has no recorded sha256 (not
// downloadable as proven) and is not found as the latest backup (no time).
func TestDatabaseBackupManifestLost(t *testing.T) {
	res := flow.Run(t.Context(), backup.New(tgt, backup.WithDir(t.TempDir()),
		backup.WithAfterDump(func(b pgbackup.Backup) error { return os.Remove(b.ManifestPath()) })))
	for i, want := range []string{"", "no manifest recording its sha256 and size", "no backup of granter_db in"} {
		s := res.Steps[i]
		if want == "" {
			if s.Status != flow.Passed {
				t.Errorf("%s: %s (%v), want passed", s.Name, s.Status, s.Err)
			}
			continue
		}
		if s.Status != flow.Failed || !strings.Contains(s.Err.Error(), want) {
			t.Errorf("%s: %s (%v), want failed naming %q", s.Name, s.Status, s.Err, want)
		}
	}
}

// A dump that cannot be taken fails "Full backup taken" with pg_dump's
// reason; "Backup verified & downloadable" then has nothing to check and
// says so (NOT CHECKED, a blocker), and "Backup time" finds no backup.
func TestDatabaseBackupDumpFails(t *testing.T) {
	broken := *tgt
	db := *tgt.Database
	db.Name = "no_such_db"
	broken.Database = &db
	res := flow.Run(t.Context(), backup.New(&broken, backup.WithDir(t.TempDir())))
	want := map[string]flow.Status{backup.FullBackupTaken: flow.Failed, backup.BackupVerified: flow.Skipped, backup.BackupTime: flow.Failed}
	for _, s := range res.Steps {
		if s.Status != want[s.Name] {
			t.Errorf("%s: %s (%v), want %s", s.Name, s.Status, s.Err, want[s.Name])
		}
	}
	if err := res.Steps[0].Err; err == nil || !contains(err.Error(), `no_such_db`) {
		t.Errorf("Full backup taken: %v, want the missing database named", err)
	}
	if err := res.Steps[1].Err; err == nil || !contains(err.Error(), `"Full backup taken" failed`) {
		t.Errorf("Backup verified & downloadable: %v, want NOT CHECKED naming the failed sub-item", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// flip inverts 64 bytes of the file at off, as a bad disk or a broken copy
// would.
func flip(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 64)
	if _, err := f.ReadAt(buf, off); err != nil {
		return err
	}
	for i := range buf {
		buf[i] ^= 0xff
	}
	_, err = f.WriteAt(buf, off)
	return err
}

// deleteOneGrant damages the restored copy: one grant less than dumped.
func deleteOneGrant(ctx context.Context, copy pgbackup.Source) error {
	cfg, err := pgx.ParseConfig(copy.URL.Reveal())
	if err != nil {
		return err
	}
	cfg.Database = copy.Database
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DELETE FROM grants WHERE id = (SELECT min(id) FROM grants)")
	return err
}
