package pgbackup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/pgcontainer"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
)

// db is one Postgres container for the package; each test works in its own
// database on it.
var db *pgcontainer.DB

func TestMain(m *testing.M) {
	var stop func()
	var err error
	db, stop, err = pgcontainer.StartMain(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// schema has what a dump must carry: a primary key, a table without one, a
// second schema, jsonb, bytea, floats, timestamps, a generated column and
// NULLs.
const schema = `
CREATE TABLE grants (id bigserial PRIMARY KEY, title text NOT NULL, amount bigint, deadline date,
	score double precision, created_at timestamptz NOT NULL DEFAULT '2026-03-03 14:00:00+01',
	doc jsonb, blob bytea, title_len int GENERATED ALWAYS AS (length(title)) STORED);
INSERT INTO grants (title, amount, deadline, score, doc, blob)
	SELECT 'grant ' || i, i * 1000, DATE '2026-01-01' + i, i / 3.0, jsonb_build_object('i', i, 'tags', ARRAY['a','b']), decode(md5(i::text), 'hex')
	FROM generate_series(1, 500) i;
INSERT INTO grants (title) VALUES ('no amount, no deadline');
CREATE TABLE audit_log (at timestamptz, line text);
INSERT INTO audit_log SELECT now() - i * interval '1 minute', 'line ' || i FROM generate_series(1, 40) i;
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id int PRIMARY KEY, total numeric(12,2));
INSERT INTO billing.invoices SELECT i, i * 9.99 FROM generate_series(1, 25) i;
CREATE TABLE empty_table (id int);
`

// newDB creates a database for one test, loaded with sql, and returns it
// as a Source that runs the tools inside the container.
func newDB(t testing.TB, sql string) pgbackup.Source {
	t.Helper()
	name := "t_" + strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_"))
	if len(name) > 50 {
		name = name[:50]
	}
	admin := connect(t, db.ConnString())
	_, err := admin.Exec(t.Context(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, db.ConnString())
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	if sql != "" {
		c := connect(t, urlOf(t, name))
		_, err := c.Exec(t.Context(), sql)
		require.NoError(t, err)
	}
	return pgbackup.Source{Server: server(t), Database: name}
}

func server(t testing.TB) pgbackup.Server {
	t.Helper()
	return pgbackup.Server{URL: target.NewSecret("TEST_DATABASE_URL", db.ConnString()), Container: db.Container.GetContainerID()}
}

func urlOf(t testing.TB, database string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(db.ConnString())
	require.NoError(t, err)
	return strings.Replace(db.ConnString(), "/"+cfg.Database+"?", "/"+database+"?", 1)
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if c != nil {
		t.Cleanup(func() { _ = c.Close(context.Background()) })
	}
	require.NoError(t, err)
	return c
}

func exec(t testing.TB, database, sql string) {
	t.Helper()
	c := connect(t, urlOf(t, database))
	_, err := c.Exec(t.Context(), sql)
	require.NoError(t, err, sql)
	require.NoError(t, c.Close(t.Context()))
}

// alterCopy runs sql in the restored copy before it is compared, as a
// restore that went wrong would leave it (pgbackup.WithAfterRestore).
func alterCopy(t testing.TB, sql string) pgbackup.Option {
	return pgbackup.WithAfterRestore(func(ctx context.Context, copy pgbackup.Source) error {
		exec(t, copy.Database, sql)
		return nil
	})
}

func databases(t testing.TB, like string) []string {
	t.Helper()
	rows, err := connect(t, db.ConnString()).Query(t.Context(), "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1", like)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

func TestDumpAndVerify(t *testing.T) {
	src := newDB(t, schema)
	dir := filepath.Join(t.TempDir(), "backups")
	var reports []pgbackup.Progress
	var mu sync.Mutex
	b, err := pgbackup.Dump(t.Context(), src, dir, pgbackup.WithProgress(func(p pgbackup.Progress) {
		mu.Lock()
		reports = append(reports, p)
		mu.Unlock()
	}, time.Millisecond))
	require.NoError(t, err)

	t.Run("file_custom_format_0600_named_by_time", func(t *testing.T) {
		assert.Regexp(t, `^backup-\d{8}-\d{6}\.dump$`, filepath.Base(b.Path))
		assert.Equal(t, filepath.Base(b.Path), pgbackup.FileName(b.Taken))
		info, err := os.Stat(b.Path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		assert.Equal(t, b.Size, info.Size())
		head := make([]byte, 5)
		f, err := os.Open(b.Path)
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Read(head)
		require.NoError(t, err)
		assert.Equal(t, "PGDMP", string(head), "pg_dump custom format")
		sum, _, err := pgbackup.FileSHA256(b.Path)
		require.NoError(t, err)
		assert.Equal(t, sum, b.SHA256)
		assert.WithinDuration(t, time.Now(), b.Taken, time.Minute)
		left, err := filepath.Glob(filepath.Join(dir, "*.partial"))
		require.NoError(t, err)
		assert.Empty(t, left)
	})

	t.Run("tables_counted_in_the_snapshot", func(t *testing.T) {
		assert.Equal(t, map[string]int64{"grants": 501, "audit_log": 40, "billing.invoices": 25, "empty_table": 0},
			rowsOf(b.Tables))
		assert.Equal(t, int64(566), b.Rows())
		for name, st := range b.Tables {
			assert.Regexp(t, `^[0-9a-f]{16}$`, st.Checksum, name)
		}
	})

	t.Run("manifest_beside_the_file", func(t *testing.T) {
		m, err := pgbackup.ReadManifest(b.ManifestPath())
		require.NoError(t, err)
		assert.Equal(t, b.Path, m.Path)
		assert.Equal(t, b.SHA256, m.SHA256)
		assert.Equal(t, b.Tables, m.Tables)
		assert.True(t, m.Taken.Equal(b.Taken))
		info, err := os.Stat(b.ManifestPath())
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	})

	t.Run("progress_reported", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, reports)
		last := reports[len(reports)-1]
		assert.True(t, last.Done)
		assert.Equal(t, b.Size, last.Bytes)
		assert.Regexp(t, `^dumping t_\w+… \d+\.\d MB, \d+s, done$`, last.String())
	})

	t.Run("verify_restores_and_compares", func(t *testing.T) {
		v, err := pgbackup.Verify(t.Context(), b, src.Server)
		require.NoError(t, err)
		assert.Equal(t, 4, v.Tables)
		assert.Equal(t, int64(566), v.Rows)
		assert.Empty(t, databases(t, `%\_verify\_%`), "the scratch database is dropped")
		m, err := pgbackup.ReadManifest(b.ManifestPath())
		require.NoError(t, err)
		require.NotNil(t, m.Verified, "the manifest records the verification")
		assert.Equal(t, v.Scratch, m.Verified.Scratch)
		latest, err := pgbackup.LatestVerified(dir, src.Database)
		require.NoError(t, err)
		assert.Equal(t, b.Path, latest.Path)
	})
}

func rowsOf(m map[string]pgbackup.TableStat) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[k] = v.Rows
	}
	return out
}

func TestVerifyCatchesACorruptFile(t *testing.T) {
	src := newDB(t, schema)
	b, err := pgbackup.Dump(t.Context(), src, t.TempDir())
	require.NoError(t, err)
	flip(t, b.Path, b.Size/2)

	_, err = pgbackup.Verify(t.Context(), b, src.Server)
	var ie *pgbackup.IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, err.Error(), filepath.Base(b.Path))
	assert.Contains(t, err.Error(), "the file changed after it was taken")

	t.Run("even_with_a_manifest_rewritten_to_match", func(t *testing.T) {
		// Someone "fixed" the manifest: the restore itself must fail.
		b.SHA256, b.Size, err = pgbackup.FileSHA256(b.Path)
		require.NoError(t, err)
		_, err = pgbackup.Verify(t.Context(), b, src.Server)
		require.Error(t, err)
		var te *pgbackup.ToolError
		var me *pgbackup.MismatchError
		assert.True(t, errors.As(err, &te) || errors.As(err, &me), "want a failed pg_restore or a mismatch, got %v", err)
		assert.Empty(t, databases(t, `%\_verify\_%`), "the scratch database is dropped after a failure too")
	})
}

// flip inverts bytes of the file at off (past the header, inside the data).
func flip(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 64)
	_, err = f.ReadAt(buf, off)
	require.NoError(t, err)
	for i := range buf {
		buf[i] ^= 0xff
	}
	_, err = f.WriteAt(buf, off)
	require.NoError(t, err)
}

func TestVerifyNamesTheTableThatDiffers(t *testing.T) {
	src := newDB(t, schema)
	b, err := pgbackup.Dump(t.Context(), src, t.TempDir())
	require.NoError(t, err)
	cases := []struct {
		name, sql string
		want      []string
	}{
		{"row_lost", "DELETE FROM grants WHERE id = 7", []string{"table grants: 500 rows restored, 501 at dump time"}},
		{"content_changed", "UPDATE billing.invoices SET total = total + 0.01 WHERE id = 3",
			[]string{"table billing.invoices: content checksum", "same 25 rows, different content"}},
		{"table_missing", "DROP TABLE audit_log", []string{"table audit_log: missing from the restored copy (40 rows at dump time)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pgbackup.Verify(t.Context(), b, src.Server, alterCopy(t, c.sql))
			var me *pgbackup.MismatchError
			require.ErrorAs(t, err, &me)
			require.Len(t, me.Diffs, 1, "only the damaged table differs: %v", err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// The statistics and the file come from one snapshot: rows written during
// the dump are in neither.
func TestDumpIsOneSnapshotUnderWrites(t *testing.T) {
	src := newDB(t, schema+`CREATE TABLE busy (id bigserial PRIMARY KEY, payload text);
		INSERT INTO busy (payload) SELECT repeat('x', 200) FROM generate_series(1, 50000);`)
	ctx, cancel := context.WithCancel(t.Context())
	writer := connect(t, urlOf(t, src.Database))
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if _, err := writer.Exec(ctx, "INSERT INTO busy (payload) VALUES ('during the dump')"); err != nil {
				if ctx.Err() != nil {
					break
				}
				done <- err
				return
			}
			written.Add(1)
		}
		done <- nil
	}()
	b, err := pgbackup.Dump(t.Context(), src, t.TempDir())
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, err)
	require.Positive(t, written.Load(), "the writer ran during the dump")
	_, err = pgbackup.Verify(t.Context(), b, src.Server)
	require.NoError(t, err, "%d rows were written during the dump", written.Load())
}

func TestHostTools(t *testing.T) {
	src := newDB(t, schema)
	src.Container = "" // the host's pg_dump and pg_restore, through the published port
	b, err := pgbackup.Dump(t.Context(), src, t.TempDir())
	require.NoError(t, err)
	_, err = pgbackup.Verify(t.Context(), b, src.Server)
	require.NoError(t, err)
}

func TestRestoreSwitchesOnlyAfterVerifying(t *testing.T) {
	src := newDB(t, schema)
	dir := t.TempDir()
	b, err := pgbackup.Dump(t.Context(), src, dir)
	require.NoError(t, err)
	// The deployment went wrong: data changed after the backup.
	exec(t, src.Database, "DELETE FROM grants WHERE id <= 100; INSERT INTO billing.invoices VALUES (999, 1)")
	// A session still open on the database (a service not yet stopped).
	lingering := connect(t, urlOf(t, src.Database))

	t.Run("refuses_a_copy_that_differs", func(t *testing.T) {
		_, err := pgbackup.Restore(t.Context(), b, src, alterCopy(t, "DELETE FROM empty_table; DELETE FROM audit_log WHERE line = 'line 1'"))
		require.ErrorContains(t, err, "untouched")
		require.ErrorContains(t, err, "table audit_log: 39 rows restored, 40 at dump time")
		assert.Equal(t, "401", scalar(t, src.Database, "SELECT count(*) FROM grants"), "the database is left as it was")
		assert.Empty(t, databases(t, `%\_restore\_%`))
	})

	t.Run("restores_and_keeps_the_old_database", func(t *testing.T) {
		r, err := pgbackup.Restore(t.Context(), b, src)
		require.NoError(t, err)
		assert.Equal(t, src.Database, r.Database)
		assert.Equal(t, "501", scalar(t, src.Database, "SELECT count(*) FROM grants"))
		assert.Equal(t, "25", scalar(t, src.Database, "SELECT count(*) FROM billing.invoices"))
		require.NotEmpty(t, r.Previous)
		t.Cleanup(func() { _ = pgbackup.Drop(context.Background(), src.Server, r.Previous) })
		assert.Equal(t, "401", scalar(t, r.Previous, "SELECT count(*) FROM grants"), "the old database is kept, renamed")
		assert.Empty(t, databases(t, `%\_restore\_%`))
		var one int
		assert.Error(t, lingering.QueryRow(t.Context(), "SELECT 1").Scan(&one), "sessions on the old database were ended")
		require.NoError(t, pgbackup.Drop(t.Context(), src.Server, r.Previous))
		assert.Empty(t, databases(t, r.Previous))
	})
}

func scalar(t testing.TB, database, sql string) string {
	t.Helper()
	var s string
	require.NoError(t, connect(t, urlOf(t, database)).QueryRow(t.Context(), "SELECT ("+sql+")::text").Scan(&s))
	return s
}

func TestLatest(t *testing.T) {
	src := newDB(t, "CREATE TABLE a (id int); INSERT INTO a VALUES (1)")
	dir := t.TempDir()
	_, err := pgbackup.Latest(dir, src.Database)
	var none *pgbackup.NoBackupError
	require.ErrorAs(t, err, &none)
	assert.EqualError(t, err, "no backup of "+src.Database+" in "+dir)

	first, err := pgbackup.Dump(t.Context(), src, dir)
	require.NoError(t, err)
	_, err = pgbackup.Verify(t.Context(), first, src.Server)
	require.NoError(t, err)
	second, err := pgbackup.Dump(t.Context(), src, dir)
	require.NoError(t, err)
	assert.NotEqual(t, first.Path, second.Path, "a second backup in the same second gets its own name")

	got, err := pgbackup.Latest(dir, src.Database)
	require.NoError(t, err)
	assert.Equal(t, second.Path, got.Path)
	got, err = pgbackup.LatestVerified(dir, src.Database)
	require.NoError(t, err)
	assert.Equal(t, first.Path, got.Path)
	_, err = pgbackup.Latest(dir, "other_db")
	require.ErrorAs(t, err, &none)
}

func TestSecretsNeverOnACommandLineOrInAnError(t *testing.T) {
	pw := "pw-" + strings.Repeat("s3cret", 3)
	srv := pgbackup.Server{URL: target.NewSecret("X_URL", "postgres://granter:"+pw+"@127.0.0.1:1/nope?sslmode=disable"), Container: "no-such-container-runbook"}
	_, err := pgbackup.Dump(t.Context(), pgbackup.Source{Server: srv, Database: "nope"}, t.TempDir())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), pw)

	// Through the container: docker exec gets the password from its
	// environment (-e PGPASSWORD without a value).
	src := newDB(t, "CREATE TABLE a (id int)")
	bad := src
	bad.Container = "no-such-container-runbook"
	b, err := pgbackup.Dump(t.Context(), src, t.TempDir())
	require.NoError(t, err)
	_, err = pgbackup.Verify(t.Context(), b, bad.Server)
	var te *pgbackup.ToolError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Command, "docker exec no-such-cont")
	assert.Contains(t, err.Error(), "No such container")
	u, _ := pgx.ParseConfig(db.ConnString())
	assert.NotContains(t, err.Error(), u.Password)
}
