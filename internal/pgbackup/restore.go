package pgbackup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaintenanceDB is the database Restore connects to while it renames the
// target (a session cannot rename the database it is connected to).
const MaintenanceDB = "postgres"

// Restored is what Restore did.
type Restored struct {
	Database string // the database now holding the backup (dst.Database)
	// Previous is what the database was renamed to before the switch; it
	// is kept (nothing is dropped) until someone runs Drop on it. Empty
	// when dst.Database did not exist.
	Previous     string
	Verification Verification
	Switched     time.Time
}

// Restore puts b back as dst.Database, safely:
//
//  1. the file is checked against its sha256;
//  2. it is restored into a NEW database (<db>_restore_<random>) and
//     verified there like Verify does; on any failure that database is
//     dropped and dst is untouched;
//  3. only then, connected to MaintenanceDB: connections to dst are
//     refused and the open ones ended, and in one transaction dst is
//     renamed to <db>_before_<time> and the new one to dst.
//
// The database is therefore never half-restored nor half-dropped: at every
// instant dst is either the old database or the verified new one. The old
// one is kept as Restored.Previous. Stop the services first (rollback
// Step 2): their sessions are ended.
//
// On error the Restored is empty, except when the switch was committed and
// only the step after it failed (connections to the previous database
// allowed again): then the restored database is live, Restored is filled
// (with Previous) and the error says so.
func Restore(ctx context.Context, b Backup, dst Source, opts ...Option) (Restored, error) {
	o := collect(opts)
	if err := CheckIntegrity(b); err != nil {
		return Restored{}, err
	}
	if len(b.Tables) == 0 {
		return Restored{}, fmt.Errorf("backup %s has no table statistics to verify the restore with", b.Path)
	}
	name, err := scratchName(dst.Database, "restore")
	if err != nil {
		return Restored{}, err
	}
	fresh := Source{Server: dst.Server, Database: name}
	v, err := restoreAndCompare(ctx, b, fresh, MaintenanceDB, o)
	if err != nil {
		if derr := dropDatabase(ctx, dst.Server, MaintenanceDB, name); derr != nil {
			err = errors.Join(err, derr)
		}
		return Restored{}, fmt.Errorf("restore into %s (untouched): %w", dst, err)
	}
	prev := dst.Database + "_before_" + o.now().UTC().Format("20060102_150405")
	if len(prev) > 63 {
		prev = prev[len(prev)-63:]
	}
	had, switched, err := switchDatabases(ctx, dst, name, prev)
	if err != nil && !switched {
		if derr := dropDatabase(ctx, dst.Server, MaintenanceDB, name); derr != nil {
			err = errors.Join(err, derr)
		}
		return Restored{}, err
	}
	r := Restored{Database: dst.Database, Verification: v, Switched: o.now().UTC()}
	if had {
		r.Previous = prev
	}
	if err != nil {
		return r, fmt.Errorf("the switch happened (%s is the restored database, the previous one is kept as %s) but connections to %s are still refused: %w", dst.Database, prev, prev, err)
	}
	return r, nil
}

// switchDatabases renames dst to prev and fresh to dst. It reports whether
// dst existed and whether the renames were committed (an error with
// switched true came after the commit).
func switchDatabases(ctx context.Context, dst Source, fresh, prev string) (had, switched bool, err error) {
	conn, err := dst.connect(ctx, MaintenanceDB)
	if err != nil {
		return false, false, fmt.Errorf("switch to the restored database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dst.Database).Scan(&exists); err != nil {
		return false, false, fmt.Errorf("switch to the restored database: %w", err)
	}
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	if exists {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+id(dst.Database)+" WITH ALLOW_CONNECTIONS false"); err != nil {
			return true, false, fmt.Errorf("switch: refuse new connections to %s: %w", dst.Database, err)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, dst.Database); err != nil {
			return true, false, errors.Join(fmt.Errorf("switch: end the sessions on %s: %w", dst.Database, err),
				allowConnections(conn, dst.Database))
		}
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if exists {
			if _, err := tx.Exec(ctx, "ALTER DATABASE "+id(dst.Database)+" RENAME TO "+id(prev)); err != nil {
				return fmt.Errorf("rename %s to %s: %w", dst.Database, prev, err)
			}
		}
		if _, err := tx.Exec(ctx, "ALTER DATABASE "+id(fresh)+" RENAME TO "+id(dst.Database)); err != nil {
			return fmt.Errorf("rename %s to %s: %w", fresh, dst.Database, err)
		}
		return nil
	})
	if err != nil {
		if exists {
			err = errors.Join(err, allowConnections(conn, dst.Database))
		}
		return exists, false, fmt.Errorf("switch to the restored database (%s unchanged): %w", dst.Database, err)
	}
	if exists {
		if err := allowConnections(conn, prev); err != nil {
			return true, true, err
		}
	}
	return exists, true, nil
}

func allowConnections(conn *pgx.Conn, db string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH ALLOW_CONNECTIONS true"); err != nil {
		return fmt.Errorf("allow connections to %s again: %w", db, err)
	}
	return nil
}
