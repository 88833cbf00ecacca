package pgbackup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backup is one full backup file and what it holds.
type Backup struct {
	// Path is the dump file, backup-YYYYMMDD-HHMMSS.dump (pg_dump custom
	// format). In the manifest it is stored as the file name only, and
	// resolved against the manifest's folder when read.
	Path   string `json:"file"`
	SHA256 string `json:"sha256"` // of the whole file, hex
	Size   int64  `json:"size"`   // bytes
	// Taken is when the dump's snapshot was taken: the data is the
	// database as it was at that instant (UTC).
	Taken    time.Time `json:"taken"`
	Database string    `json:"database"`
	// Tables are every table's rows and checksum in that snapshot, keyed by
	// name (schema-qualified outside public).
	Tables map[string]TableStat `json:"tables"`
	// Access is every object's owner and privileges, the database's own
	// (owner, privileges, settings) and the extensions, in the same
	// snapshot: what a restore must give back besides the rows.
	Access Access `json:"access"`
	// Duration is how long the dump took, statistics included; Stats is
	// how long counting and checksumming the tables took (alongside
	// pg_dump, in the same snapshot).
	Duration time.Duration `json:"duration_ns"`
	Stats    time.Duration `json:"stats_ns"`
	// Verified is set once Verify succeeded on this file.
	Verified *Verification `json:"verified,omitempty"`
}

// Rows is the number of rows over every table.
func (b Backup) Rows() int64 { return totalRows(b.Tables) }

// ManifestPath is the manifest beside the dump: <file>.json.
func (b Backup) ManifestPath() string { return b.Path + ".json" }

// FilePrefix and FileSuffix frame a backup's file name.
const (
	FilePrefix = "backup-"
	FileSuffix = ".dump"
	timeLayout = "20060102-150405"
)

// FileName is the file name of a backup taken at t (UTC).
func FileName(t time.Time) string { return FilePrefix + t.UTC().Format(timeLayout) + FileSuffix }

// Dump takes a full backup of src into dir (created 0700 if missing).
//
// It opens a REPEATABLE READ transaction, exports its snapshot, runs
// `pg_dump -Fc --snapshot=<it>` and, at the same time, counts and
// checksums every table inside that transaction: the statistics describe
// exactly the data in the file. The output is streamed into
// <name>.partial (0600), hashed as it is written, synced, then renamed, so
// a dump that dies half-way never looks like a backup. The manifest is
// written last.
func Dump(ctx context.Context, src Source, dir string, opts ...Option) (Backup, error) {
	return dump(ctx, src, dir, collect(opts), nil)
}

// dump is Dump. When tee is not nil it is called with the owners and
// privileges read in the snapshot, before pg_dump starts; what it returns
// receives every byte pg_dump writes, as the file does, and is closed as
// soon as pg_dump ends (with its error, if it failed).
func dump(ctx context.Context, src Source, dir string, o options, tee func(Access) teeSink) (_ Backup, err error) {
	start := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Backup{}, fmt.Errorf("backup folder: %w", err)
	}
	conn, err := src.connect(ctx, src.Database)
	if err != nil {
		return Backup{}, fmt.Errorf("dump %s: %w", src, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Backup{}, fmt.Errorf("dump %s: begin: %w", src, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only; ending it is all that matters
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
		return Backup{}, fmt.Errorf("dump %s: export snapshot: %w", src, err)
	}
	b := Backup{Database: src.Database, Taken: o.now().UTC()}
	if b.Access, err = accessOf(ctx, tx); err != nil {
		return Backup{}, fmt.Errorf("dump %s: %w", src, err)
	}

	f, final, err := createExclusive(dir, b.Taken)
	if err != nil {
		return Backup{}, err
	}
	partial := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(partial)
		}
	}()
	hash := sha256.New()
	m := o.meter("dumping", src.Database, 0)
	out := []io.Writer{f, hash, m}
	var sink teeSink
	if tee != nil {
		sink = tee(b.Access)
		out = append(out, sink)
	}
	// --compress=1: gzip's default level 6 was the dump's largest cost on
	// CPU-bound cores; 1M grants make a 55 MB file instead of 47 MB
	// (BENCHMARKS.md, 2026-12-08).
	t := tool{srv: src.Server, database: src.Database, name: "pg_dump",
		args:   []string{"--format=custom", "--compress=1", "--snapshot=" + snapshot, "--no-password"},
		stdout: io.MultiWriter(out...)}

	// pg_dump and the statistics share the snapshot; run them together.
	// The first to fail stops the other (a large table takes minutes) and
	// is the error reported.
	both, stopBoth := context.WithCancel(ctx)
	defer stopBoth()
	var first error
	var once sync.Once
	fail := func(err error) {
		if err != nil {
			once.Do(func() { first = err; stopBoth() })
		}
	}
	dumped := make(chan struct{})
	go func() {
		defer close(dumped)
		err := t.run(both)
		if sink != nil {
			sink.CloseWithError(err)
		}
		fail(err)
	}()
	statsStart := time.Now()
	tables, statsErr := tableStats(both, tx)
	fail(statsErr)
	b.Stats = time.Since(statsStart)
	<-dumped
	m.stop()
	if first != nil {
		return Backup{}, fmt.Errorf("dump %s: %w", src, first)
	}
	if len(tables) == 0 {
		// An empty backup would verify trivially (nothing to compare) and be
		// offered to a rollback: refuse it.
		return Backup{}, fmt.Errorf("dump %s: the database has no tables (the wrong database?); a backup of nothing is not a backup", src)
	}
	if err := f.Sync(); err != nil {
		return Backup{}, fmt.Errorf("dump %s: sync %s: %w", src, partial, err)
	}
	info, err := f.Stat()
	if err != nil {
		return Backup{}, err
	}
	if err := f.Close(); err != nil {
		return Backup{}, fmt.Errorf("dump %s: close %s: %w", src, partial, err)
	}
	if info.Size() == 0 {
		return Backup{}, fmt.Errorf("dump %s: pg_dump wrote nothing", src)
	}
	if err := os.Rename(partial, final); err != nil {
		return Backup{}, fmt.Errorf("dump %s: %w", src, err)
	}
	b.Path, b.Size, b.SHA256, b.Tables = final, info.Size(), hex.EncodeToString(hash.Sum(nil)), tables
	b.Duration = time.Since(start)
	if err := WriteManifest(b); err != nil {
		return b, err
	}
	return b, syncDir(dir)
}

// createExclusive creates <FileName(t)>.partial in dir, 0600, failing
// rather than overwriting; a second backup in the same second gets -2, -3.
// It returns the open partial file and the final path.
func createExclusive(dir string, t time.Time) (*os.File, string, error) {
	base := strings.TrimSuffix(FileName(t), FileSuffix)
	for i := 1; i < 100; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		final := filepath.Join(dir, name+FileSuffix)
		if _, err := os.Lstat(final); err == nil {
			continue
		}
		f, err := os.OpenFile(final+".partial", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("create backup file: %w", err)
		}
		return f, final, nil
	}
	return nil, "", fmt.Errorf("create backup file: 99 backups named %s* already in %s", base, dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync backup folder %s: %w", dir, err)
	}
	return nil
}

// FileSHA256 hashes the file at path: its hex sha256 and size.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// IntegrityError says the file is not the one that was taken.
type IntegrityError struct {
	Path                  string
	WantSHA256, GotSHA256 string
	WantSize, GotSize     int64
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("backup file %s: sha256 %s, size %d bytes; the manifest recorded sha256 %s, size %d bytes at dump time: the file changed after it was taken (corrupted or truncated); take a new backup",
		e.Path, short(e.GotSHA256), e.GotSize, short(e.WantSHA256), e.WantSize)
}

func short(sha string) string {
	if len(sha) > 16 {
		return sha[:16] + "…"
	}
	return sha
}

// CheckIntegrity re-hashes the file and compares it with what Dump
// recorded; a difference is an *IntegrityError.
func CheckIntegrity(b Backup) error {
	sum, size, err := FileSHA256(b.Path)
	if err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	if sum != b.SHA256 || size != b.Size {
		return &IntegrityError{Path: b.Path, WantSHA256: b.SHA256, GotSHA256: sum, WantSize: b.Size, GotSize: size}
	}
	return nil
}
