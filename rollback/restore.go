package rollback

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/progress"
)

// restore is Step 3: pgbackup.Restore, into a new database verified
// against the manifest, then switched in by renaming.
func (r *runner) restore(ctx context.Context) ([]map[string]string, error) {
	b := r.plan.Backup
	prog := progress.New(r.out, "rollback: restoring "+filepath.Base(b.Path)+" into a new database", b.Size)
	res, err := pgbackup.Restore(ctx, b, r.plan.Database, pgbackup.WithProgress(func(pp pgbackup.Progress) {
		switch pp.Stage {
		case "restoring":
			prog.Update(pp.Bytes)
			if pp.Total > 0 && pp.Bytes >= pp.Total && !pp.Done {
				prog.Note("file read; pg_restore builds the indexes and constraints")
			}
		case "comparing":
			prog.Note("comparing every table's rows and checksum with the manifest, %s", pp.Elapsed.Round(time.Second))
		}
	}, 2*time.Second))
	_ = prog.Done(map[bool]string{true: "restored, verified, switched", false: "FAILED"}[err == nil])
	for _, line := range res.Recovered {
		fmt.Fprintf(r.out, "rollback: an earlier switch was interrupted: %s\n", line)
	}
	d := map[string]string{journal.KeyBackupFile: b.Path, journal.KeyBackupSHA256: b.SHA256, journal.KeyBackupTaken: b.Taken.Format(time.RFC3339), "database": r.plan.Database.Database}
	if len(res.Recovered) > 0 {
		d["database.recovered"] = strings.Join(res.Recovered, "; ")
	}
	if err != nil {
		if res.Database != "" {
			// The switch happened and only what came after it failed: the
			// restored database is live, the previous one kept.
			r.res.Restored = &res
			d["database.previous"] = res.Previous
		}
		return []map[string]string{d}, err
	}
	r.res.Restored = &res
	d["database.previous"] = res.Previous
	d["tables"] = strconv.Itoa(res.Verification.Tables)
	d["rows"] = strconv.FormatInt(res.Verification.Rows, 10)
	d["restore"] = res.Verification.Restore.Round(time.Millisecond).String()
	d["compare"] = res.Verification.Compare.Round(time.Millisecond).String()
	d["objects"] = strconv.Itoa(res.Verification.Objects)
	d["verified"] = "every table's row count and checksum, every object's owner and privileges, the database's owner, privileges and settings, and the extensions equal the backup's manifest"
	fmt.Fprintf(r.out, "rollback: %s restored: %d tables, %d rows, counts and checksums equal the backup's; owners, privileges, default privileges, settings and extensions of %d objects equal the backup's (restore %s, compare %s); the database as it was is kept as %s\n",
		res.Database, res.Verification.Tables, res.Verification.Rows, res.Verification.Objects, res.Verification.Restore.Round(time.Millisecond), res.Verification.Compare.Round(time.Millisecond), orDash(res.Previous))
	return []map[string]string{d}, nil
}
