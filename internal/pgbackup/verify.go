package pgbackup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/granter/runbook/internal/target"
)

// Verification is the proof that a backup restores to what was dumped.
type Verification struct {
	At      time.Time     `json:"at"`
	Scratch string        `json:"scratch"`    // the database it was restored into
	Restore time.Duration `json:"restore_ns"` // pg_restore
	Compare time.Duration `json:"compare_ns"` // counting and checksumming the copy
	Tables  int           `json:"tables"`
	Rows    int64         `json:"rows"`
	// Objects is how many objects' owners, privileges and definitions
	// (and the database's settings and extensions) were found equal.
	Objects int `json:"objects"`
	// PostData says how the archive's post-data section (indexes, keys,
	// triggers, policies) was proven: built on the restored rows, or
	// applied to the copy emptied once its rows were proven equal
	// (DumpVerified).
	PostData string `json:"post_data,omitempty"`
}

// DropTimeout bounds the drop of a scratch database, which runs on a fresh
// context so a cancelled verification still cleans up.
const DropTimeout = 30 * time.Second

// WithAfterRestore runs fn between the restore and the comparison of the
// rows, on the restored copy (in DumpVerified, before the post-data
// section is applied to it). Fault tests use it to damage the copy
// (delete a row) and prove the comparison names the table; nothing else
// should.
func WithAfterRestore(fn func(ctx context.Context, copy Source) error) Option {
	return func(o *options) { o.afterRestore = fn }
}

// Verify proves b restores exactly: the file still has its recorded
// sha256 and size (else an *IntegrityError), the roles its objects belong
// to exist (else a *MissingRolesError), pg_restore with owners and
// privileges into a new scratch database on scratch succeeds (else a
// *ToolError), and every table there has the rows and checksum recorded
// at dump time and every object its owner and privileges, the database
// its owner, privileges and settings, the extensions their version (else
// a *MismatchError naming each, expected vs seen). The scratch database is dropped in
// every case. On success the verification is recorded in b's manifest.
func Verify(ctx context.Context, b Backup, scratch Server, opts ...Option) (Verification, error) {
	o := collect(opts)
	if err := CheckIntegrity(b); err != nil {
		return Verification{}, err
	}
	if len(b.Tables) == 0 {
		return Verification{}, fmt.Errorf("backup %s has no table statistics to compare with (its manifest was not written by Dump)", b.Path)
	}
	name, err := scratchName(b.Database, "verify")
	if err != nil {
		return Verification{}, err
	}
	copyDB := Source{Server: scratch, Database: name}
	v, err := restoreAndCompare(ctx, b, copyDB, "", o)
	if derr := dropDatabase(ctx, scratch, "", name); derr != nil {
		err = errors.Join(err, derr)
	}
	if err != nil {
		return Verification{}, err
	}
	if _, serr := os.Stat(b.ManifestPath()); serr == nil {
		b.Verified = &v
		if err := WriteManifest(b); err != nil {
			return v, err
		}
	}
	return v, nil
}

// restoreAndCompare creates copyDB (connecting to maintenance, the URL's
// database when empty), restores the file b into it with its owners and
// privileges, gives it the database's own owner, privileges and settings,
// and compares rows, checksums, owners and privileges with the manifest.
// The caller drops copyDB.
func restoreAndCompare(ctx context.Context, b Backup, copyDB Source, maintenance string, o options) (Verification, error) {
	f, err := os.Open(b.Path)
	if err != nil {
		return Verification{Scratch: copyDB.Database}, fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	v, err := restoreFrom(ctx, b.Access, f, b.Size, copyDB, maintenance, o)
	if err != nil {
		return v, fmt.Errorf("restore %s into %s: %w", b.Path, copyDB, err)
	}
	return v, compareCopy(ctx, b, copyDB, o, &v, false)
}

// restoreFrom creates copyDB and pg_restores the archive read from r
// (size bytes when known, for progress) into it with its owners and
// privileges, then gives it the database's own owner, privileges and
// settings from access. It returns the Verification so far (Scratch,
// Restore). The caller drops copyDB.
func restoreFrom(ctx context.Context, access Access, r io.Reader, size int64, copyDB Source, maintenance string, o options) (Verification, error) {
	v := Verification{Scratch: copyDB.Database}
	if len(access) == 0 {
		return v, errors.New("the backup records no owners and privileges (its manifest was written by an older runbook): it cannot be restored exactly; take a new backup")
	}
	conn, err := copyDB.connect(ctx, maintenance)
	if err != nil {
		return v, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := checkRoles(ctx, conn, copyDB.Server, access); err != nil {
		return v, err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{copyDB.Database}.Sanitize()+" TEMPLATE template0"); err != nil {
		return v, fmt.Errorf("create scratch database %s on %s (the database user needs CREATEDB): %w", copyDB.Database, copyDB.Server, err)
	}
	start := time.Now()
	m := o.meter("restoring", copyDB.Database, size)
	// Owners and privileges are restored (no --no-owner, no
	// --no-privileges): the restoring role must be a member of every
	// owner, which checkRoles made sure of.
	t := pgRestore(copyDB, o, io.TeeReader(r, m))
	err = t.run(ctx)
	m.stop()
	if err == nil {
		err = applyDatabaseAccess(ctx, conn, copyDB.Database, access)
	}
	v.Restore = time.Since(start)
	return v, err
}

// pgRestore is pg_restore of the archive read from stdin into db: stop at
// the first error, never prompt, then the options' own arguments
// (withRestoreArgs).
func pgRestore(db Source, o options, stdin io.Reader) tool {
	args := append([]string{"--exit-on-error", "--no-password", "--dbname=" + db.Database}, o.restoreArgs...)
	return tool{srv: db.Server, database: db.Database, name: "pg_restore", args: args, stdin: stdin}
}

// compareCopy compares the restored copyDB with what b recorded at dump
// time: every table's rows and checksum, every object's owner, privileges
// and definition, the database's settings, the extensions. A difference
// is a *MismatchError. On success v is completed. postData: copyDB was
// restored without its post-data section (DumpVerified); once the rows are
// proven equal it is applied to the copy emptied (applyPostData), before
// the owners, privileges and definitions are compared.
func compareCopy(ctx context.Context, b Backup, copyDB Source, o options, v *Verification, postData bool) error {
	conn, err := copyDB.connect(ctx, copyDB.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	got, diffs, err := compareRows(ctx, b, copyDB, conn, o, v)
	if err != nil {
		return err
	}
	if postData {
		if len(diffs) > 0 {
			// The post-data section is not applied to rows that differ.
			return &MismatchError{Database: b.Database, Scratch: copyDB.Database, Diffs: diffs}
		}
		if err := applyPostData(ctx, b, copyDB, conn, o, v); err != nil {
			return err
		}
	}
	return compareAccess(ctx, b, copyDB, conn, o, v, got, diffs)
}

// compareRows runs the afterRestore hook on copyDB, then counts and
// checksums its every table through conn and compares them with b's.
func compareRows(ctx context.Context, b Backup, copyDB Source, conn *pgx.Conn, o options, v *Verification) (map[string]TableStat, []TableDiff, error) {
	if o.afterRestore != nil {
		if err := o.afterRestore(ctx, copyDB); err != nil {
			return nil, nil, err
		}
	}
	start := time.Now()
	cm := o.meter("comparing", copyDB.Database, 0)
	got, err := tableStats(ctx, conn)
	cm.stop()
	v.Compare += time.Since(start)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", copyDB, err)
	}
	return got, compare(b.Tables, got), nil
}

// compareAccess reads copyDB's owners, privileges and definitions through
// conn and compares them with b's: with the table differences diffs, a
// *MismatchError; else v is completed from got.
func compareAccess(ctx context.Context, b Backup, copyDB Source, conn *pgx.Conn, o options, v *Verification, got map[string]TableStat, diffs []TableDiff) error {
	start := time.Now()
	access, err := accessOf(ctx, conn)
	v.Compare += time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %w", copyDB, err)
	}
	if adiffs := CompareAccess(b.Access, access); len(diffs) > 0 || len(adiffs) > 0 {
		return &MismatchError{Database: b.Database, Scratch: copyDB.Database, Diffs: diffs, Access: adiffs}
	}
	v.At, v.Tables, v.Rows, v.Objects = o.now().UTC(), len(got), totalRows(got), len(access)
	return nil
}

// scratchName is <database>_<purpose>_<random>, within PostgreSQL's 63.
func scratchName(database, purpose string) (string, error) {
	r := make([]byte, 4)
	if _, err := rand.Read(r); err != nil {
		return "", err
	}
	suffix := "_" + purpose + "_" + hex.EncodeToString(r)
	if len(database)+len(suffix) > 63 {
		database = database[:63-len(suffix)]
	}
	return database + suffix, nil
}

// dropDatabase drops name (if it exists), ending its sessions, on a fresh
// context bounded by DropTimeout.
func dropDatabase(ctx context.Context, srv Server, maintenance, name string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DropTimeout)
	defer cancel()
	conn, err := srv.connect(ctx, maintenance)
	if err != nil {
		return fmt.Errorf("drop scratch database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop scratch database %s on %s: %w", name, srv, err)
	}
	return nil
}

// Drop drops database name on srv, ending its sessions: for the database
// Restore kept aside once the restored one is confirmed good.
func Drop(ctx context.Context, srv Server, name string) error {
	return dropDatabase(ctx, srv, MaintenanceDB, name)
}

// Copy restores b into a new database on srv (<db>_copy_<random>) and
// checks it like Verify, then leaves it to the caller: checklist item 5
// runs the pending migrations on it. drop removes it (on a fresh context,
// bounded by DropTimeout) and must be called, also after an error when it
// is not nil.
func Copy(ctx context.Context, b Backup, srv Server, opts ...Option) (copyDB Source, drop func() error, err error) {
	o := collect(opts)
	if err := CheckIntegrity(b); err != nil {
		return Source{}, nil, err
	}
	if len(b.Tables) == 0 {
		return Source{}, nil, fmt.Errorf("backup %s has no table statistics to check the copy with", b.Path)
	}
	name, err := scratchName(b.Database, "copy")
	if err != nil {
		return Source{}, nil, err
	}
	copyDB = Source{Server: srv, Database: name}
	drop = func() error { return dropDatabase(ctx, srv, "", name) }
	if _, err := restoreAndCompare(ctx, b, copyDB, "", o); err != nil {
		return copyDB, drop, err
	}
	return copyDB, drop, nil
}

// URLFor is the server's URL pointing at database instead: what a migrator
// given DATABASE_URL connects to. It is a Secret like the server's.
func (s Server) URLFor(database string) (target.Secret, error) {
	u, err := url.Parse(s.URL.Reveal())
	if err != nil || u.Host == "" {
		return target.Secret{}, fmt.Errorf("database URL %s is not a URL", s.URL)
	}
	u.Path = "/" + database
	return target.NewSecret(s.URL.Name(), u.String()), nil
}
