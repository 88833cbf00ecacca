package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	FullBackupTaken   = "Full backup taken"
	BackupVerified    = "Backup verified & downloadable"
	BackupTime        = "Backup time"
	itemNumber        = 1
	progressEvery     = 10 * time.Second
	defaultItemBudget = 30 * time.Minute
)

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	dir       string
	now       func() time.Time
	afterDump func(b pgbackup.Backup) error
	pg        []pgbackup.Option
	journal   *journal.Journal
	timeout   time.Duration
}

// WithDir writes the backup into dir instead of backup.dir (tests).
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithClock replaces time.Now for "Backup time" (fault tests: a clock
// three hours ahead makes the fresh backup stale).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithAfterDump runs fn on the backup once "Full backup taken" has passed,
// before the other sub-items look at it. Fault tests damage the file with
// it (flip bytes, chmod 0644), as a disk or a careless copy would.
func WithAfterDump(fn func(b pgbackup.Backup) error) Option {
	return func(c *config) { c.afterDump = fn }
}

// WithBackupOptions passes options to pgbackup's Dump and Verify (for
// example pgbackup.WithAfterRestore in fault tests).
func WithBackupOptions(opts ...pgbackup.Option) Option {
	return func(c *config) { c.pg = append(c.pg, opts...) }
}

// WithJournal records the backup (file, sha256, size, time) in the run's
// journal, where Step 1.1 and the rollback find it.
func WithJournal(j *journal.Journal) Option { return func(c *config) { c.journal = j } }

// WithTimeout bounds the whole item (default 30 minutes: a dump and a
// restore of a large database).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// New returns checklist item 1 for tgt: run it with flow.RunT (a test) or
// flow.Run.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{dir: tgt.Backup.Dir, now: time.Now, timeout: defaultItemBudget}
	for _, o := range opts {
		o(&c)
	}
	it := &item{tgt: tgt, c: c}
	f := checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		FullBackupTaken: it.fullBackupTaken,
		BackupVerified:  it.verified,
		BackupTime:      it.backupTime,
	})
	f.Timeout = c.timeout
	return f
}

// item is one run of the item: the backup the first sub-item took is what
// the others check.
type item struct {
	tgt *target.Target
	c   config

	mu        sync.Mutex
	backup    *pgbackup.Backup
	dumpErr   error
	verifyErr error // the backup was taken but its one-pass verification failed
}

func (it *item) taken() (pgbackup.Backup, error) {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.backup == nil {
		return pgbackup.Backup{}, checklist.NotChecked("there is no backup to check: %q failed (%v)", FullBackupTaken, it.dumpErr)
	}
	return *it.backup, nil
}

func (it *item) fullBackupTaken(ctx context.Context, r *flow.Recorder) (err error) {
	defer func() {
		it.mu.Lock()
		it.dumpErr = err
		it.mu.Unlock()
	}()
	src, err := pgbackup.SourceOf(it.tgt)
	if err != nil {
		return err
	}
	if it.c.dir == "" {
		return errors.New("no backup folder: set backup.dir in " + it.tgt.File)
	}
	scratch := pgbackup.ScratchOf(it.tgt, src)
	r.Logf("pg_dump --format=custom of %s into %s, restored as it is written into a scratch database on %s (the verification, checked by %q)", src, it.c.dir, scratch, BackupVerified)
	opts := append([]pgbackup.Option{pgbackup.WithProgress(func(p pgbackup.Progress) { r.Logf("%s", p) }, progressEvery)}, it.c.pg...)
	b, verifyErr, err := pgbackup.DumpVerified(ctx, src, it.c.dir, scratch, opts...)
	if err != nil {
		return err
	}
	it.mu.Lock()
	it.verifyErr = verifyErr
	it.mu.Unlock()
	if len(b.Tables) == 0 {
		return fmt.Errorf("%s holds no table: %s is not the Granter database (database.name)", b.Path, src.Database)
	}
	r.Logf("file %s, %d bytes, sha256 %s, manifest %s", b.Path, b.Size, b.SHA256, b.ManifestPath())
	for _, name := range sortedTables(b.Tables) {
		r.Logf("table %s: %d rows, checksum %s", name, b.Tables[name].Rows, b.Tables[name].Checksum)
	}
	if it.c.journal != nil {
		if err := it.c.journal.Add(journal.Entry{Phase: journal.Preflight, Step: "1", Action: "full backup taken", Status: journal.StatusOK,
			Manual:  fmt.Sprintf("docker exec postgres pg_dump -Fc -Z1 -U <user> %s > %s", src.Database, filepath.Base(b.Path)),
			Started: b.Taken, Duration: b.Duration,
			Data: map[string]string{"file": b.Path, "sha256": b.SHA256, "size": fmt.Sprint(b.Size), "taken": b.Taken.Format(time.RFC3339), "database": b.Database}}); err != nil {
			return fmt.Errorf("backup taken, but recording it in the journal failed: %w", err)
		}
	}
	if it.c.afterDump != nil {
		if err := it.c.afterDump(b); err != nil {
			return fmt.Errorf("after-dump hook: %w", err)
		}
	}
	it.mu.Lock()
	it.backup = &b
	it.mu.Unlock()
	checklist.Evidence(r, "%s: %s, %d tables, %d rows, sha256 %s… (dump took %s)",
		filepath.Base(b.Path), pgbackup.MB(b.Size), len(b.Tables), b.Rows(), b.SHA256[:12], b.Duration.Round(10*time.Millisecond))
	return nil
}

func (it *item) verified(ctx context.Context, r *flow.Recorder) error {
	b, err := it.taken()
	if err != nil {
		return err
	}
	// Downloadable: a whole file, as recorded, that only its owner reads.
	var problems []error
	info, err := os.Stat(b.Path)
	switch {
	case err != nil:
		return fmt.Errorf("not downloadable: %w", err)
	case info.Size() == 0:
		problems = append(problems, fmt.Errorf("not downloadable: %s is empty", b.Path))
	case info.Mode().Perm()&0o077 != 0:
		problems = append(problems, fmt.Errorf("not downloadable safely: %s has mode %04o: open to others than its owner (it holds every user's data): chmod 600 %s",
			b.Path, info.Mode().Perm(), b.Path))
	}
	m, err := pgbackup.ReadManifest(b.ManifestPath())
	switch {
	case err != nil:
		problems = append(problems, fmt.Errorf("no manifest recording its sha256 and size: %w", err))
	case m.SHA256 != b.SHA256 || m.Size != b.Size:
		problems = append(problems, fmt.Errorf("manifest %s records sha256 %s size %d, the dump produced %s size %d", b.ManifestPath(), m.SHA256, m.Size, b.SHA256, b.Size))
	}
	r.Logf("file %s: mode %04o, %d bytes; manifest %s", b.Path, info.Mode().Perm(), info.Size(), b.ManifestPath())

	// Verified: restored into a scratch database as it was written and
	// compared table by table (pgbackup.DumpVerified); and the file is
	// still the one that was restored.
	it.mu.Lock()
	verifyErr := it.verifyErr
	it.mu.Unlock()
	v := b.Verified
	switch {
	case verifyErr != nil:
		problems = append(problems, fmt.Errorf("not verified: %w", verifyErr))
	case v == nil:
		problems = append(problems, fmt.Errorf("not verified: %s was never restored and compared", b.Path))
	default:
		r.Logf("restored into %s in %s, compared in %s: %d tables, %d rows, %d owners, privileges and definitions match; post-data section %s",
			v.Scratch, v.Restore.Round(time.Millisecond), v.Compare.Round(time.Millisecond), v.Tables, v.Rows, v.Objects, v.PostData)
		if err := pgbackup.CheckIntegrity(b); err != nil {
			problems = append(problems, fmt.Errorf("not verified: %w", err))
		}
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	checklist.Evidence(r, "restored into a scratch database as it was written: %d tables, %d rows, every count and checksum match (restore %s, compare %s); file 0600, sha256 and size as recorded",
		v.Tables, v.Rows, v.Restore.Round(10*time.Millisecond), v.Compare.Round(10*time.Millisecond))
	return nil
}

func (it *item) backupTime(ctx context.Context, r *flow.Recorder) error {
	if it.tgt.Database == nil {
		return errors.New("the target has no database section: there is no backup to date")
	}
	latest, err := pgbackup.Latest(it.c.dir, it.tgt.Database.Name)
	if err != nil {
		return err
	}
	now := it.c.now()
	age := now.Sub(latest.Taken)
	maxAge := it.tgt.Thresholds.BackupMaxAge
	r.Logf("latest backup of %s in %s: %s, taken %s; now %s", latest.Database, it.c.dir, filepath.Base(latest.Path),
		latest.Taken.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	if maxAge <= 0 {
		return errors.New("thresholds.backupMaxAge is not set: a backup of any age would do")
	}
	if age > maxAge {
		return fmt.Errorf("the latest backup, %s, was taken at %s, %s ago: older than thresholds.backupMaxAge %s; take a new one before deploying",
			filepath.Base(latest.Path), latest.Taken.UTC().Format("2006-01-02 15:04:05 MST"), age.Round(time.Second), maxAge)
	}
	checklist.Evidence(r, "%s (%s ago, at most %s), %s",
		latest.Taken.UTC().Format("2006-01-02 15:04:05 MST"), age.Round(time.Second), maxAge, filepath.Base(latest.Path))
	return nil
}
