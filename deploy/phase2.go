package deploy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/proc"
	"github.com/granter/runbook/internal/target"
)

// Deadlines of Phase 2.
const (
	// MigrateTimeout bounds the migration command: Phase 2's window.
	MigrateTimeout = 10 * time.Minute
	// StatusTimeout bounds the status command.
	StatusTimeout = 2 * time.Minute
)

// Phase2 is "Phase 2: Database Migration (14:15-14:25)".
func Phase2(tgt *target.Target) []Step {
	return []Step{migrateStep(tgt), migrationStatusStep(tgt), dbHealthStep(tgt)}
}

var (
	// completeLine is the migrator's "Migration 20260127000050 complete".
	completeLine = regexp.MustCompile(`\b([0-9]{14})\b.*\bcomplete\b`)
	// statusLine is a status command line: a timestamp and its state.
	statusLine = regexp.MustCompile(`\b([0-9]{14})\b.*\b(success|pending)\b`)
)

func command(argv []string, fallback string) string {
	if len(argv) == 0 {
		return fallback
	}
	return strings.Join(argv, " ")
}

func migrateStep(tgt *target.Target) Step {
	cmd := command(tgt.Migrations.Command, "(migrations.command not configured)")
	return Step{
		Phase: journal.Phase2, ID: "2.1", Title: "Run Pending Migrations",
		Manual: fmt.Sprintf("DATABASE_URL=%s %s   (as written in the runbook: npm run migration:run -- --env=production)", dbVar(tgt), cmd),
		Would: fmt.Sprintf("run %s against %s on %s (DATABASE_URL in its environment) and expect %s to complete",
			cmd, dbName(tgt), dbHost(tgt), strings.Join(tgt.Migrations.Expected, ", ")),
		Changes: ChangesDatabase, Class: exitcode.Deploy, Timeout: MigrateTimeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			mc := s.Target.Migrations
			if len(mc.Command) == 0 {
				return fmt.Errorf("no migration command configured: set migrations.command in %s (production: npm run migration:run -- --env=production)", s.Target.File)
			}
			before, err := appliedMigrations(ctx, s.Target)
			if err != nil {
				return fmt.Errorf("before migrating: %w", err)
			}
			var pending []string
			for _, id := range mc.Expected {
				if !slices.Contains(before, id) {
					pending = append(pending, id)
				}
			}
			r.Set("migrations.before", strings.Join(before, ","))
			r.Set(journal.KeyMigrationsExpected, strings.Join(mc.Expected, ","))
			r.Logf("%d migrations recorded in the migrations table; pending of the expected: %s", len(before), orDefault(strings.Join(pending, ", "), "none"))
			if err := r.Acting(fmt.Sprintf("run %s (pending: %s)", strings.Join(mc.Command, " "), orDefault(strings.Join(pending, ", "), "none"))); err != nil {
				return err
			}
			start := time.Now()
			out, completed, runErr := s.runMigrator(ctx, r, mc.Command)
			after, aerr := appliedMigrations(ctx, s.Target)
			var added []string
			for _, id := range after {
				if !slices.Contains(before, id) {
					added = append(added, id)
				}
			}
			r.Set(journal.KeyMigrationsNew, strings.Join(added, ","))
			r.Set("migrations.completed", strings.Join(completed, ","))
			if aerr == nil {
				r.Set(journal.KeyMigrationsApplied, strings.Join(after, ","))
			}
			if runErr != nil {
				return fmt.Errorf("%s failed after %s: %w; migrations applied by it before it stopped: %s; its last lines:\n  %s",
					strings.Join(mc.Command, " "), short(time.Since(start)), runErr, orDefault(strings.Join(added, ", "), "none"), strings.Join(lastLines(out, 5), "\n  "))
			}
			if aerr != nil {
				return fmt.Errorf("after migrating: %w", aerr)
			}
			r.Resultf("%s: %d migrations complete (%s) in %s", strings.Join(mc.Command, " "), len(added), orDefault(strings.Join(added, ", "), "none was pending"), short(time.Since(start)))
			return nil
		},
	}
}

// runMigrator runs argv with DATABASE_URL in its environment (never on its
// command line), in code.repo when that folder exists, printing its lines
// as they come (redacted). It returns the output, the migrations it said
// complete, and its error.
func (s *State) runMigrator(ctx context.Context, r *Record, argv []string) ([]string, []string, error) {
	// The backup protects database.name; the migrator gets the URL. They
	// must be the same database before the migrator runs (also checked
	// when the file is loaded; a local target's URL is attached later).
	if err := target.DatabaseNamed(s.Target.Database.URL, s.Target.Database.Name); err != nil {
		return nil, nil, fmt.Errorf("the migrator was not started: %w", err)
	}
	cmd := proc.Command(ctx, argv[0], argv[1:]...)
	if s.Target.Code.Repo != "" {
		if st, err := os.Stat(s.Target.Code.Repo); err == nil && st.IsDir() {
			cmd.Dir = s.Target.Code.Repo
		}
	}
	cmd.Env = append(append(os.Environ(), s.migratorEnv...), "DATABASE_URL="+s.Target.Database.URL.Reveal())
	cmd.WaitDelay = 10 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var out, completed []string
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := s.Target.Redact(sc.Text())
			out = append(out, line)
			r.Logf("| %s", line)
			if m := completeLine.FindStringSubmatch(line); m != nil {
				completed = append(completed, m[1])
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	})
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	_ = pw.Close()
	wg.Wait()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	return out, completed, err
}

// appliedMigrations reads the migrations table: every recorded timestamp,
// in the order applied.
func appliedMigrations(ctx context.Context, tgt *target.Target) ([]string, error) {
	conn, err := connect(ctx, tgt)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	qctx, cancel := context.WithTimeout(ctx, DBTimeout)
	defer cancel()
	rows, err := conn.Query(qctx, `SELECT timestamp FROM migrations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading the migrations table of %s: %w", dbName(tgt), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ts int64
		if err := rows.Scan(&ts); err != nil {
			return nil, err
		}
		out = append(out, strconv.FormatInt(ts, 10))
	}
	return out, rows.Err()
}

func migrationStatusStep(tgt *target.Target) Step {
	manual := fmt.Sprintf(`psql %s -c 'SELECT timestamp, name FROM migrations ORDER BY id'`, dbVar(tgt))
	if len(tgt.Migrations.StatusCommand) > 0 {
		manual = fmt.Sprintf("DATABASE_URL=%s %s; %s", dbVar(tgt), command(tgt.Migrations.StatusCommand, ""), manual)
	}
	return Step{
		Phase: journal.Phase2, ID: "2.2", Title: "Verify Migration Success", Manual: manual + "   (as written in the runbook: npm run migration:status)",
		Would: fmt.Sprintf("check that %s are all recorded as applied in the migrations table of %s%s, none pending",
			strings.Join(tgt.Migrations.Expected, ", "), dbName(tgt), map[bool]string{true: " and in the status command's output", false: ""}[len(tgt.Migrations.StatusCommand) > 0]),
		Class: exitcode.Deploy, Timeout: StatusTimeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			mc := s.Target.Migrations
			applied, err := appliedMigrations(ctx, s.Target)
			if err != nil {
				return err
			}
			r.Set(journal.KeyMigrationsApplied, strings.Join(applied, ","))
			r.Set(journal.KeyMigrationsExpected, strings.Join(mc.Expected, ","))
			var missing []string
			for _, id := range mc.Expected {
				if !slices.Contains(applied, id) {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("the migrations table of %s does not record %s as applied; expected all of %s (recorded: %s)",
					dbName(s.Target), strings.Join(missing, ", "), strings.Join(mc.Expected, ", "), orDefault(strings.Join(applied, ", "), "none"))
			}
			r.Logf("migrations table: the %d expected migrations are recorded (%d rows in all)", len(mc.Expected), len(applied))
			if len(mc.StatusCommand) > 0 {
				out, _, err := s.runMigrator(ctx, &Record{w: io.Discard, redact: s.Target.Redact}, mc.StatusCommand)
				if err != nil {
					return fmt.Errorf("%s: %w: %s", strings.Join(mc.StatusCommand, " "), err, strings.Join(lastLines(out, 5), "; "))
				}
				states := map[string]string{}
				for _, line := range out {
					if m := statusLine.FindStringSubmatch(line); m != nil {
						states[m[1]] = m[2]
					}
				}
				var pending, notListed []string
				for id, st := range states {
					if st == "pending" {
						pending = append(pending, id)
					}
				}
				for _, id := range mc.Expected {
					if _, ok := states[id]; !ok {
						notListed = append(notListed, id)
					}
				}
				slices.Sort(pending)
				switch {
				case len(states) == 0:
					return fmt.Errorf("%s printed no line with a migration timestamp and its state (success|pending): %s", strings.Join(mc.StatusCommand, " "), strings.Join(lastLines(out, 5), "; "))
				case len(pending) > 0:
					return fmt.Errorf("%s says %s still pending, expected every migration in \"success\" state", strings.Join(mc.StatusCommand, " "), strings.Join(pending, ", "))
				case len(notListed) > 0:
					return fmt.Errorf("%s does not list %s, expected each in \"success\" state", strings.Join(mc.StatusCommand, " "), strings.Join(notListed, ", "))
				}
				r.Logf("%s: %d migrations, all in \"success\" state", strings.Join(mc.StatusCommand, " "), len(states))
			}
			r.Resultf("all %d expected migrations applied (%s … %s), none pending", len(mc.Expected), first(mc.Expected), last(mc.Expected))
			return nil
		},
	}
}

func dbHealthStep(tgt *target.Target) Step {
	return Step{
		Phase: journal.Phase2, ID: "2.3", Title: "Test Database Connection",
		Manual: fmt.Sprintf("psql %s -c 'SELECT 1'   (as written in the runbook: npm run db:health-check)", dbVar(tgt)),
		Would:  fmt.Sprintf("connect to %s on %s, run SELECT 1 and read the migrations table, within %s", dbName(tgt), dbHost(tgt), DBTimeout),
		Class:  exitcode.Deploy, Timeout: 3 * DBTimeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			start := time.Now()
			conn, err := connect(ctx, s.Target)
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			qctx, cancel := context.WithTimeout(ctx, DBTimeout)
			defer cancel()
			var one int
			var version string
			if err := conn.QueryRow(qctx, "SELECT 1, current_setting('server_version')").Scan(&one, &version); err != nil {
				return fmt.Errorf("SELECT 1 on %s: %w", dbName(s.Target), err)
			}
			var n int
			if err := conn.QueryRow(qctx, "SELECT count(*) FROM migrations").Scan(&n); err != nil {
				return fmt.Errorf("reading the migrations table of %s: %w", dbName(s.Target), err)
			}
			lat := time.Since(start)
			r.Set("db.latency", lat.Round(time.Millisecond).String())
			r.Resultf("database responding normally: SELECT 1 and the migrations table (%d rows) in %s, PostgreSQL %s", n, short(lat), version)
			return nil
		},
	}
}

func lastLines(lines []string, n int) []string {
	if len(lines) == 0 {
		return []string{"(no output)"}
	}
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}
