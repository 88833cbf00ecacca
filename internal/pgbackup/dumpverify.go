package pgbackup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// DumpVerified takes a backup as Dump does and verifies it, in one pass:
// every byte pg_dump writes goes to the file, to its sha256 and to a
// pg_restore into a new scratch database on scratch, at the same time.
// Once both end, the file is hashed again (it must be the bytes that were
// restored, as recorded) and the copy is compared with the statistics,
// owners, privileges and definitions of the dump's snapshot; the file's
// sha256 ties the restored stream to the file on disk. What it saves is
// the second read of the data: the restore runs while pg_dump does.
//
// The stream restores the schema and the rows only. The archive's
// post-data section (indexes, keys, triggers, policies, row security, and
// the privileges that follow them in the archive) is applied from the file
// once the rows are proven equal, to the same copy emptied
// (applyPostData), and every index, key, trigger and policy is then
// compared by definition. The indexes are not built a second time on
// rows proven equal to the source's, where the source's own valid
// indexes and keys already hold (pg_dump leaves invalid indexes out, NOT
// VALID constraints stay NOT VALID): that build cost 8.7x the dump on 1M
// grants (the full-text GIN index; BENCHMARKS.md). Where building the
// post-data section can fail on the rows alone, the rows are kept and it
// is built on them, as Verify does (postDataNeedsRows: an index or key
// that uses a function, operator, operator class or collation of the
// database's own, whose body may read other tables or depend on
// search_path, which pg_restore empties; a populated materialized view).
// Verification.PostData says which was done. A rollback's Restore
// always builds everything on the rows.
//
// err is set when there is no backup. verifyErr is set when the backup
// was taken (b is on disk with its manifest) but not verified: a failed
// or different restore (*MismatchError, *MissingRolesError, *ToolError),
// a file changed since it was written (*IntegrityError). On success
// b.Verified is set and recorded in the manifest. The scratch database is
// dropped in every case.
func DumpVerified(ctx context.Context, src Source, dir string, scratch Server, opts ...Option) (b Backup, verifyErr, err error) {
	o := collect(opts)
	name, err := scratchName(src.Database, "verify")
	if err != nil {
		return Backup{}, nil, err
	}
	copyDB := Source{Server: scratch, Database: name}
	onRows, err := postDataNeedsRows(ctx, src)
	if err != nil {
		return Backup{}, nil, err
	}
	ro := o
	if onRows == "" {
		ro = o.withRestoreArgs(beforePostData...)
	}
	var (
		v        Verification
		restored chan error
	)
	b, err = dump(ctx, src, dir, o, func(access Access) teeSink {
		r, w := io.Pipe()
		restored = make(chan error, 1)
		go func() {
			var rerr error
			v, rerr = restoreFrom(ctx, access, r, 0, copyDB, "", ro)
			// Whatever is still written after the restore ended is
			// dropped (detached), never a reason for the dump to fail.
			r.CloseWithError(errRestoreEnded)
			restored <- rerr
		}()
		return &detached{w: w}
	})
	if restored != nil {
		if rerr := <-restored; rerr != nil {
			verifyErr = fmt.Errorf("restore %s into %s: %w", dumpName(b, src), copyDB, rerr)
		}
		if err == nil && verifyErr == nil {
			// The copy was restored from the stream; the file must hold
			// exactly that stream (its sha256 was computed from it), or
			// it is not what was verified.
			verifyErr = CheckIntegrity(b)
		}
		if err == nil && verifyErr == nil {
			if onRows == "" {
				v.PostData = PostDataOnEmptyCopy
			} else {
				v.PostData = PostDataOnRows + ": " + onRows
			}
			verifyErr = compareCopy(ctx, b, copyDB, o, &v, onRows == "")
		}
		if derr := dropDatabase(ctx, scratch, "", name); derr != nil {
			verifyErr = errors.Join(verifyErr, derr)
		}
	}
	if err != nil || verifyErr != nil {
		return b, verifyErr, err
	}
	b.Verified = &v
	if err := WriteManifest(b); err != nil {
		return b, nil, err
	}
	return b, nil, nil
}

// dumpName names the backup in messages: its file once written, else the
// database being dumped.
func dumpName(b Backup, src Source) string {
	if b.Path != "" {
		return b.Path
	}
	return "the dump of " + src.String()
}

var errRestoreEnded = errors.New("the verifying restore has ended")

// teeSink receives pg_dump's output beside the file.
type teeSink interface {
	io.Writer
	CloseWithError(error) error
}

// detached passes writes to w until w fails, then drops them: a restore
// that stops reading (failed, or done early) must never fail nor block
// the backup.
type detached struct {
	mu  sync.Mutex
	w   *io.PipeWriter
	err error
}

func (d *detached) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		_, d.err = d.w.Write(p)
	}
	return len(p), nil
}

func (d *detached) CloseWithError(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w.CloseWithError(err) // nil: the restore reads the end of the archive
}

// beforePostData restores an archive's schema and data, not its post-data
// section.
var beforePostData = []string{"--section=pre-data", "--section=data"}

// Verification.PostData: how the archive's post-data section was proven.
const (
	PostDataOnEmptyCopy = "applied to the copy emptied once its rows were proven equal; definitions compared"
	PostDataOnRows      = "built on the restored rows"
)

// postDataNeedsRowsQuery names the first index or constraint whose build
// runs code of the database's own (OIDs from FirstNormalObjectId, 16384:
// not PostgreSQL's built-ins), or populated materialized view, or "".
const postDataNeedsRowsQuery = `
SELECT coalesce(
  (SELECT 'index ' || i.indexrelid::regclass::text || ' uses ' || pg_describe_object(d.refclassid, d.refobjid, 0)
   FROM pg_index i JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
   WHERE d.refobjid >= 16384
     AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_opclass'::regclass, 'pg_collation'::regclass)
   ORDER BY 1 LIMIT 1),
  (SELECT 'constraint ' || quote_ident(k.conname) || ' of ' || k.conrelid::regclass::text || ' uses ' || pg_describe_object(d.refclassid, d.refobjid, 0)
   FROM pg_constraint k JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
   WHERE k.conrelid <> 0 AND d.refobjid >= 16384
     AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_opclass'::regclass, 'pg_collation'::regclass)
   ORDER BY 1 LIMIT 1),
  (SELECT 'materialized view ' || c.oid::regclass::text || ' is refreshed from the rows'
   FROM pg_class c WHERE c.relkind = 'm' AND c.relispopulated ORDER BY 1 LIMIT 1),
  '')`

// postDataNeedsRows says why src's post-data section must be built on the
// restored rows to be proven, or "" when applying it to an empty copy
// proves it.
func postDataNeedsRows(ctx context.Context, src Source) (string, error) {
	conn, err := src.connect(ctx, src.Database)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var why string
	if err := conn.QueryRow(ctx, postDataNeedsRowsQuery).Scan(&why); err != nil {
		return "", fmt.Errorf("%s: read what the post-data section's build runs: %w", src, err)
	}
	return why, nil
}

// applyPostData applies the post-data section of b's file to copyDB,
// restored without it, once its tables are emptied (through conn), with
// --exit-on-error: a failure is a *ToolError.
func applyPostData(ctx context.Context, b Backup, copyDB Source, conn *pgx.Conn, o options, v *Verification) error {
	start := time.Now()
	if err := emptyTables(ctx, conn); err != nil {
		return fmt.Errorf("%s: %w", copyDB, err)
	}
	f, err := os.Open(b.Path)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	t := pgRestore(copyDB, o.withRestoreArgs("--section=post-data"), f)
	if err := t.run(ctx); err != nil {
		return fmt.Errorf("restore the post-data section of %s into %s: %w", b.Path, copyDB, err)
	}
	v.Restore += time.Since(start)
	return nil
}

// emptyTables truncates every table of the database q is connected to,
// each ONLY itself (tableList lists every child; a foreign table is never
// reached through its parent).
func emptyTables(ctx context.Context, q *pgx.Conn) error {
	tables, err := listTables(ctx, q)
	if err != nil || len(tables) == 0 {
		return err
	}
	if _, err := q.Exec(ctx, "TRUNCATE ONLY "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("empty the tables before the post-data section: %w", err)
	}
	return nil
}
