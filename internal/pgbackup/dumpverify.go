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

// DumpVerified takes a backup as Dump does and verifies it as Verify does,
// in one pass: every byte pg_dump writes goes to the file, to its sha256
// and to a pg_restore into a new scratch database on scratch, at the same
// time. Once both end, the file is hashed again (it must be the bytes that
// were restored, as recorded) and the copy is compared with the
// statistics, owners and privileges of the dump's snapshot. The proof is
// Verify's: pg_restore reads the archive as a stream either way, and the
// file's sha256 ties that stream to the file on disk. What it saves is
// the second read of the data: the restore runs while pg_dump does.
//
// The stream restores the schema and the data only; the archive's
// post-data section (indexes, primary, unique and foreign keys,
// triggers, policies, and the privileges that follow them) is applied
// from the file once the data are proven equal, on the same copy emptied
// (compareThenPostData). Building the indexes again on data proven equal
// to the source's proves nothing the source's own valid indexes and
// constraints do not (pg_dump leaves invalid indexes out, NOT VALID
// constraints stay NOT VALID), and it cost 8.7x the dump on 1M grants
// (the full-text GIN index; BENCHMARKS.md). A rollback's Restore builds
// them all on the data, as before.
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
	var (
		v        Verification
		restored chan error
	)
	b, err = dump(ctx, src, dir, o, func(access Access) teeSink {
		r, w := io.Pipe()
		restored = make(chan error, 1)
		go func() {
			var rerr error
			v, rerr = restoreFrom(ctx, access, r, 0, copyDB, "", o.withRestoreArgs(beforePostData...))
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
			verifyErr = compareThenPostData(ctx, b, copyDB, o, &v)
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

// compareThenPostData completes the proof of a copy restored without its
// post-data section (DumpVerified): every table has the rows and checksum
// recorded at dump time; then, the tables emptied, the file's post-data
// section applies with --exit-on-error, and every object has its owner
// and privileges, the database its settings, the extensions their version.
// A difference is a *MismatchError, a failed post-data a *ToolError.
func compareThenPostData(ctx context.Context, b Backup, copyDB Source, o options, v *Verification) error {
	if o.afterRestore != nil {
		if err := o.afterRestore(ctx, copyDB); err != nil {
			return err
		}
	}
	conn, err := copyDB.connect(ctx, copyDB.Database)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	start := time.Now()
	cm := o.meter("comparing", copyDB.Database, 0)
	got, err := tableStats(ctx, conn)
	cm.stop()
	v.Compare = time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %w", copyDB, err)
	}
	if diffs := compare(b.Tables, got); len(diffs) > 0 {
		return &MismatchError{Database: b.Database, Scratch: copyDB.Database, Diffs: diffs}
	}
	start = time.Now()
	if err := emptyTables(ctx, conn); err != nil {
		return fmt.Errorf("%s: %w", copyDB, err)
	}
	f, err := os.Open(b.Path)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	args := append([]string{"--exit-on-error", "--no-password", "--dbname=" + copyDB.Database, "--section=post-data"}, o.restoreArgs...)
	t := tool{srv: copyDB.Server, database: copyDB.Database, name: "pg_restore", args: args, stdin: f}
	if err := t.run(ctx); err != nil {
		return fmt.Errorf("restore the post-data section of %s into %s: %w", b.Path, copyDB, err)
	}
	v.Restore += time.Since(start)
	start = time.Now()
	access, err := accessOf(ctx, conn)
	v.Compare += time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %w", copyDB, err)
	}
	if adiffs := CompareAccess(b.Access, access); len(adiffs) > 0 {
		return &MismatchError{Database: b.Database, Scratch: copyDB.Database, Access: adiffs}
	}
	v.At, v.Tables, v.Rows, v.Objects = o.now().UTC(), len(got), totalRows(got), len(access)
	return nil
}

// emptyTables truncates every table of the database q is connected to.
func emptyTables(ctx context.Context, q *pgx.Conn) error {
	rows, err := q.Query(ctx, tableList)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		return err
	}
	if _, err := q.Exec(ctx, "TRUNCATE "+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("empty the tables before the post-data section: %w", err)
	}
	return nil
}
