package pgbackup

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// Recovered says what RecoverSwitch repaired first, left by an
	// interrupted switch (empty when nothing was).
	Recovered []string
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
// An interrupted switch (a cancelled ctx, an error) is settled at once on
// a fresh context: whatever the point reached, dst accepts connections
// again and is either the old database (the new one dropped) or the new
// one. A process killed mid-switch cannot do that; the next Restore
// starts with RecoverSwitch, which finds and repairs what it left.
//
// On error the Restored is empty (but for Recovered), except when the
// switch was committed and only what came after it failed or was
// interrupted: then the restored database is live, Restored is filled
// (with Previous) and the error says so.
func Restore(ctx context.Context, b Backup, dst Source, opts ...Option) (Restored, error) {
	o := collect(opts)
	if err := CheckIntegrity(b); err != nil {
		return Restored{}, err
	}
	if len(b.Tables) == 0 {
		return Restored{}, fmt.Errorf("backup %s has no table statistics to verify the restore with", b.Path)
	}
	recovered, err := RecoverSwitch(ctx, dst)
	if err != nil {
		return Restored{Recovered: recovered}, err
	}
	name, err := scratchName(dst.Database, "restore")
	if err != nil {
		return Restored{Recovered: recovered}, err
	}
	fresh := Source{Server: dst.Server, Database: name}
	v, err := restoreAndCompare(ctx, b, fresh, MaintenanceDB, o)
	if err != nil {
		if derr := dropDatabase(ctx, dst.Server, MaintenanceDB, name); derr != nil {
			err = errors.Join(err, derr)
		}
		return Restored{Recovered: recovered}, fmt.Errorf("restore into %s (untouched): %w", dst, err)
	}
	// <db>_before_<time>_<random>: two restores in one second keep both.
	prev, err := scratchName(dst.Database, "before_"+o.now().UTC().Format("20060102_150405"))
	if err != nil {
		return Restored{Recovered: recovered}, err
	}
	had, switched, err := switchDatabases(ctx, dst, name, prev, o.switchHook)
	if err != nil && !switched {
		if !errors.Is(err, errKilled) {
			if derr := dropDatabase(ctx, dst.Server, MaintenanceDB, name); derr != nil {
				err = errors.Join(err, derr)
			}
		}
		return Restored{Recovered: recovered}, err
	}
	r := Restored{Database: dst.Database, Verification: v, Switched: o.now().UTC(), Recovered: recovered}
	if had {
		r.Previous = prev
	}
	if err != nil {
		return r, fmt.Errorf("the switch happened (%s is the restored database, the previous one is kept as %s), then: %w", dst.Database, prev, err)
	}
	return r, nil
}

// The switch's points, in order. Each is journaled to the server itself
// (the state of pg_database is what RecoverSwitch reads back); a test
// interrupts the switch after each.
const (
	pointRefused    = "refuse new connections"
	pointTerminated = "end open sessions"
	pointRenamed    = "rename (not yet committed)"
	pointCommitted  = "rename committed"
	pointAllowed    = "allow connections to the previous database"
)

// errKilled is what a test hook returns to stop the switch dead, as a
// SIGKILL would: no repair runs.
var errKilled = errors.New("switch killed (test)")

// RepairTimeout bounds the repair of an interrupted switch, which runs on
// a fresh context so a cancelled rollback still leaves the database
// accepting connections.
const RepairTimeout = 30 * time.Second

// switchDatabases renames dst to prev and fresh to dst. It reports whether
// dst existed and whether the renames were committed (an error with
// switched true came after the commit). On any error or cancellation it
// settles the state (settleSwitch) before returning.
func switchDatabases(ctx context.Context, dst Source, fresh, prev string, hook func(string) bool) (had, switched bool, err error) {
	conn, err := dst.connect(ctx, MaintenanceDB)
	if err != nil {
		return false, false, fmt.Errorf("switch to the restored database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", dst.Database).Scan(&exists); err != nil {
		return false, false, fmt.Errorf("switch to the restored database: %w", err)
	}
	at := func(point string) error {
		if hook != nil && hook(point) {
			return errKilled
		}
		return nil
	}
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	fail := func(what string, err error) (bool, bool, error) {
		if errors.Is(err, errKilled) {
			return exists, false, fmt.Errorf("switch: %s: %w", what, err)
		}
		switched, note, serr := settleSwitch(ctx, dst, fresh, prev)
		if serr != nil {
			return exists, switched, errors.Join(fmt.Errorf("switch interrupted at %q: %w", what, err), serr)
		}
		return exists, switched, fmt.Errorf("switch interrupted at %q (%s): %w", what, note, err)
	}
	if exists {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+id(dst.Database)+" WITH ALLOW_CONNECTIONS false"); err != nil {
			return fail(pointRefused, err)
		}
		if err := at(pointRefused); err != nil {
			return fail(pointRefused, err)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, dst.Database); err != nil {
			return fail(pointTerminated, err)
		}
		if err := at(pointTerminated); err != nil {
			return fail(pointTerminated, err)
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
		return at(pointRenamed)
	})
	if err != nil {
		return fail(pointRenamed, err)
	}
	if err := at(pointCommitted); err != nil {
		return fail(pointCommitted, err)
	}
	if exists {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+id(prev)+" WITH ALLOW_CONNECTIONS true"); err != nil {
			return fail(pointAllowed, err)
		}
	}
	if err := at(pointAllowed); err != nil {
		return fail(pointAllowed, err)
	}
	return exists, true, nil
}

// settleSwitch brings an interrupted switch to a known state, on a fresh
// connection and context (the switch's own may be cancelled or broken):
// every one of dst and prev that exists accepts connections again. It
// reports whether the renames were committed (fresh no longer exists under
// its own name) and says what it did.
func settleSwitch(ctx context.Context, dst Source, fresh, prev string) (switched bool, note string, err error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RepairTimeout)
	defer cancel()
	conn, err := dst.connect(rctx, MaintenanceDB)
	if err != nil {
		return false, "", fmt.Errorf("repair the interrupted switch: %w", err)
	}
	defer conn.Close(rctx)
	state, err := databaseStates(rctx, conn, []string{dst.Database, fresh, prev})
	if err != nil {
		return false, "", fmt.Errorf("repair the interrupted switch: %w", err)
	}
	_, freshLeft := state[fresh]
	switched = !freshLeft
	var did []string
	for _, db := range []string{dst.Database, prev} {
		if allow, ok := state[db]; ok && !allow {
			if err := allowConnections(rctx, conn, db); err != nil {
				return switched, "", err
			}
			did = append(did, "connections to "+db+" allowed again")
		}
	}
	if switched {
		did = append(did, dst.Database+" is the restored database, the previous one kept as "+prev)
	} else {
		did = append(did, dst.Database+" unchanged")
	}
	return switched, strings.Join(did, "; "), nil
}

// databaseStates reads datallowconn of the databases among names that
// exist.
func databaseStates(ctx context.Context, conn *pgx.Conn, names []string) (map[string]bool, error) {
	rows, err := conn.Query(ctx, "SELECT datname, datallowconn FROM pg_database WHERE datname = ANY($1)", names)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	var name string
	var allow bool
	_, err = pgx.ForEachRow(rows, []any{&name, &allow}, func() error { out[name] = allow; return nil })
	return out, err
}

func allowConnections(ctx context.Context, conn *pgx.Conn, db string) error {
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH ALLOW_CONNECTIONS true"); err != nil {
		return fmt.Errorf("allow connections to %s again: %w", db, err)
	}
	return nil
}

// RecoverSwitch finds what a switch killed half-way (the process gone, so
// nothing settled it) left on dst's server, and completes or undoes it:
//   - dst, or a database kept aside as <db>_before_*, refusing connections
//     (killed after refusing them): connections allowed again;
//   - dst missing while a <db>_before_* exists (renamed away, the new one
//     never renamed in): the newest one renamed back to dst (undone);
//   - <db>_restore_* databases (a restore or a switch that never
//     completed; never verified as far as anyone can tell now): dropped.
//
// It returns one line per repair (none: nothing was left) and runs on a
// context bounded by RepairTimeout. Restore calls it first.
func RecoverSwitch(ctx context.Context, dst Source) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, RepairTimeout)
	defer cancel()
	conn, err := dst.connect(ctx, MaintenanceDB)
	if err != nil {
		return nil, fmt.Errorf("look for an interrupted switch: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	esc := strings.NewReplacer(`\`, `\\`, "_", `\_`, "%", `\%`).Replace(dst.Database)
	rows, err := conn.Query(ctx, `SELECT datname, datallowconn FROM pg_database
		WHERE datname = $1 OR datname LIKE $2 OR datname LIKE $3 ORDER BY datname`,
		dst.Database, esc+`\_before\_%`, esc+`\_restore\_%`)
	if err != nil {
		return nil, fmt.Errorf("look for an interrupted switch: %w", err)
	}
	type dbState struct {
		name  string
		allow bool
	}
	var dbs []dbState
	var st dbState
	if _, err := pgx.ForEachRow(rows, []any{&st.name, &st.allow}, func() error { dbs = append(dbs, st); return nil }); err != nil {
		return nil, fmt.Errorf("look for an interrupted switch: %w", err)
	}
	var did []string
	haveDst := false
	var newestBefore string
	for _, d := range dbs {
		switch {
		case d.name == dst.Database:
			haveDst = true
		case strings.HasPrefix(d.name, dst.Database+"_before_"):
			if d.name > newestBefore {
				newestBefore = d.name
			}
		}
	}
	for _, d := range dbs {
		if strings.HasPrefix(d.name, dst.Database+"_restore_") {
			if err := dropDatabase(ctx, dst.Server, MaintenanceDB, d.name); err != nil {
				return did, err
			}
			did = append(did, "dropped "+d.name+", left by a restore or a switch that never completed")
			continue
		}
		if !d.allow {
			if err := allowConnections(ctx, conn, d.name); err != nil {
				return did, err
			}
			did = append(did, d.name+" was refusing connections (a switch killed half-way): connections allowed again")
		}
	}
	if !haveDst && newestBefore != "" {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{newestBefore}.Sanitize()+" RENAME TO "+pgx.Identifier{dst.Database}.Sanitize()); err != nil {
			return did, fmt.Errorf("undo an interrupted switch: rename %s back to %s: %w", newestBefore, dst.Database, err)
		}
		did = append(did, dst.Database+" was missing and "+newestBefore+" kept aside (a switch killed half-way): renamed back to "+dst.Database)
	}
	return did, nil
}
