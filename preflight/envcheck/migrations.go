package envcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/proc"
	"github.com/granter/runbook/internal/target"
)

// migrationLine is one line of the status command: a 14-digit migration
// timestamp and, on the same line, its state (the runbook's words:
// "success" when applied, "pending" otherwise).
var migrationLine = regexp.MustCompile(`\b([0-9]{14})\b.*\b(success|pending)\b`)

// parseStatus reads the status command's output: the pending migrations,
// in the order listed, and how many lines it understood.
func parseStatus(out string) (pending []string, listed int) {
	for _, line := range strings.Split(out, "\n") {
		m := migrationLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		listed++
		if m[2] == "pending" {
			pending = append(pending, m[1])
		}
	}
	return pending, listed
}

// migrator runs the migration commands against one database.
type migrator struct {
	tgt *target.Target
	env []string
}

// run runs argv with DATABASE_URL=db in its environment (never on its
// command line), in code.repo when set, and returns its output, redacted.
func (m migrator) run(ctx context.Context, argv []string, db target.Secret) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("no command configured")
	}
	ctx, cancel := context.WithTimeout(ctx, MigratorTimeout)
	defer cancel()
	cmd := proc.Command(ctx, argv[0], argv[1:]...)
	if m.tgt.Code.Repo != "" {
		if _, err := os.Stat(m.tgt.Code.Repo); err == nil {
			cmd.Dir = m.tgt.Code.Repo
		}
	}
	cmd.Env = append(append(os.Environ(), m.env...), "DATABASE_URL="+db.Reveal())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := target.Redact(m.tgt.Redact(strings.TrimSpace(out.String())), db)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w after %s", err, MigratorTimeout)
		}
		return text, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, lastLines(text, 5))
	}
	return text, nil
}

func (it *item) migrations(ctx context.Context, r *flow.Recorder) error {
	mc := it.tgt.Migrations
	if len(mc.StatusCommand) == 0 || len(mc.Command) == 0 {
		return fmt.Errorf("no migrator configured: set migrations.command and migrations.statusCommand in %s", it.tgt.File)
	}
	src, err := pgbackup.SourceOf(it.tgt)
	if err != nil {
		return err
	}
	m := migrator{tgt: it.tgt, env: it.c.migratorEnv}

	// 1. What the migrator says is pending on the target database.
	live, err := src.URLFor(src.Database)
	if err != nil {
		return err
	}
	out, err := m.run(ctx, mc.StatusCommand, live)
	if err != nil {
		return fmt.Errorf("migration status of %s: %w", src.Database, err)
	}
	pending, listed := parseStatus(out)
	r.Logf("%s on %s: %d migrations listed, pending: %s", strings.Join(mc.StatusCommand, " "), src.Database, listed, strings.Join(pending, ", "))
	if listed == 0 {
		return fmt.Errorf("%s printed no line with a migration timestamp and its state (success|pending): %s", strings.Join(mc.StatusCommand, " "), lastLines(out, 5))
	}
	if !slices.Equal(pending, mc.Expected) {
		return fmt.Errorf("the migrations pending on %s are not the expected ones: %s", src.Database, diffLists(mc.Expected, pending))
	}
	if len(pending) == 0 {
		return fmt.Errorf("no migration is pending on %s and migrations.expected lists none: nothing says what Phase 2 will run", src.Database)
	}

	// 2. They apply cleanly to a restored copy of the fresh backup.
	b, err := it.freshBackup(ctx, r, src)
	if err != nil {
		return err
	}
	scratch := pgbackup.ScratchOf(it.tgt, src)
	copyDB, drop, err := pgbackup.Copy(ctx, b, scratch, it.c.pg...)
	defer func() {
		if drop != nil {
			if derr := drop(); derr != nil {
				r.Logf("dropping the scratch copy %s: %v", copyDB.Database, derr)
			}
		}
	}()
	if err != nil {
		return fmt.Errorf("restoring %s into a scratch database: %w", filepath.Base(b.Path), err)
	}
	r.Logf("restored %s into %s on %s", filepath.Base(b.Path), copyDB.Database, scratch)
	scratchURL, err := scratch.URLFor(copyDB.Database)
	if err != nil {
		return err
	}
	start := time.Now()
	out, err = m.run(ctx, mc.Command, scratchURL)
	for _, l := range strings.Split(out, "\n") {
		if l != "" {
			r.Logf("migrate (scratch copy): %s", l)
		}
	}
	if err != nil {
		return fmt.Errorf("the pending migrations do not apply to a copy of %s restored from %s: %w", src.Database, filepath.Base(b.Path), err)
	}
	out, err = m.run(ctx, mc.StatusCommand, scratchURL)
	if err != nil {
		return fmt.Errorf("migration status of the scratch copy: %w", err)
	}
	still, listed := parseStatus(out)
	if len(still) > 0 {
		return fmt.Errorf("after migrating the scratch copy, still pending: %s", strings.Join(still, ", "))
	}
	if listed == 0 {
		return fmt.Errorf("after migrating the scratch copy, the status command listed no migration (want every expected one in \"success\" state); its output: %q", clipStatus(out))
	}
	checklist.Evidence(r, "pending = the expected %d (%s…%s); applied cleanly in %s to a copy of %s restored from %s",
		len(pending), pending[0], pending[len(pending)-1], time.Since(start).Round(100*time.Millisecond), src.Database, filepath.Base(b.Path))
	return nil
}

// freshBackup is the newest backup of the database younger than
// thresholds.backupMaxAge (item 1 just took one), or a new one.
func (it *item) freshBackup(ctx context.Context, r *flow.Recorder, src pgbackup.Source) (pgbackup.Backup, error) {
	if it.c.backupDir == "" {
		return pgbackup.Backup{}, errors.New("no backup folder: set backup.dir in " + it.tgt.File)
	}
	b, err := pgbackup.Latest(it.c.backupDir, src.Database)
	var none *pgbackup.NoBackupError
	switch {
	case err == nil && it.c.now().Sub(b.Taken) <= it.tgt.Thresholds.BackupMaxAge:
		r.Logf("fresh backup: %s, taken %s", b.Path, b.Taken.Format(time.RFC3339))
		return b, nil
	case err != nil && !errors.As(err, &none):
		return b, err
	}
	r.Logf("no backup younger than %s in %s: taking one", it.tgt.Thresholds.BackupMaxAge, it.c.backupDir)
	b, err = pgbackup.Dump(ctx, src, it.c.backupDir, it.c.pg...)
	if err != nil {
		return b, fmt.Errorf("taking a fresh backup to migrate a copy of: %w", err)
	}
	r.Logf("fresh backup: %s", b.Path)
	return b, nil
}

// diffLists says how got differs from want.
func diffLists(want, got []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	s := fmt.Sprintf("expected %d pending [%s], the migrator reports %d [%s]", len(want), strings.Join(want, " "), len(got), strings.Join(got, " "))
	if len(missing) > 0 {
		s += "; not pending (already applied, or missing from the release): " + strings.Join(missing, " ")
	}
	if len(extra) > 0 {
		s += "; unexpected: " + strings.Join(extra, " ")
	}
	if len(missing) == 0 && len(extra) == 0 {
		s += "; same migrations in another order"
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// clipStatus keeps an error message readable when a status command prints a lot.
func clipStatus(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
