package pgbackup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
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
			v, rerr = restoreFrom(ctx, access, r, 0, copyDB, "", o)
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
			verifyErr = compareCopy(ctx, b, copyDB, o, &v)
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
