package pgbackup_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/pgbackup"
)

// TestDumpVerified: the one-pass backup proves what Dump then Verify
// prove, and a failed verification never costs the backup.
func TestDumpVerified(t *testing.T) {
	t.Run("verified_in_one_pass", func(t *testing.T) {
		src := newDB(t, schema)
		dir := t.TempDir()
		b, verr, err := pgbackup.DumpVerified(t.Context(), src, dir, src.Server)
		require.NoError(t, err)
		require.NoError(t, verr)
		require.NotNil(t, b.Verified)
		assert.Equal(t, int64(566), b.Verified.Rows)
		assert.Equal(t, 4, b.Verified.Tables)
		assert.Positive(t, b.Verified.Objects)
		m, err := pgbackup.ReadManifest(b.ManifestPath())
		require.NoError(t, err)
		require.NotNil(t, m.Verified, "the verification is recorded in the manifest")
		assert.Equal(t, pgbackup.PostDataOnEmptyCopy, m.Verified.PostData)
		// The file is an ordinary backup: Verify, from the file, agrees.
		_, err = pgbackup.Verify(t.Context(), b, src.Server)
		require.NoError(t, err)
		assert.Empty(t, databases(t, `%\_verify\_%`), "the scratch database is dropped")
		got, err := pgbackup.LatestVerified(dir, src.Database)
		require.NoError(t, err)
		assert.Equal(t, b.Path, got.Path)
	})

	t.Run("a_copy_that_differs_is_not_verified_but_the_backup_is_kept", func(t *testing.T) {
		src := newDB(t, schema)
		b, verr, err := pgbackup.DumpVerified(t.Context(), src, t.TempDir(), src.Server,
			alterCopy(t, "DELETE FROM audit_log WHERE line = 'line 1'"))
		require.NoError(t, err, "the backup itself was taken")
		var mm *pgbackup.MismatchError
		require.ErrorAs(t, verr, &mm)
		assert.ErrorContains(t, verr, "table audit_log: 39 rows restored, 40 at dump time")
		assert.Nil(t, b.Verified)
		_, serr := os.Stat(b.Path)
		require.NoError(t, serr, "the backup file is kept")
		m, err := pgbackup.ReadManifest(b.ManifestPath())
		require.NoError(t, err)
		assert.Nil(t, m.Verified, "an unverified backup is not recorded as verified")
		assert.Empty(t, databases(t, `%\_verify\_%`))
	})

	// The stream restores the schema and the data; the post-data section
	// is applied from the file afterwards, with --exit-on-error: one of its
	// statements failing fails the verification, named.
	t.Run("the_post_data_section_is_applied_after_the_data", func(t *testing.T) {
		src := newDB(t, schema)
		// The name is free before the post-data section, taken by then.
		b, verr, err := pgbackup.DumpVerified(t.Context(), src, t.TempDir(), src.Server,
			alterCopy(t, "CREATE INDEX grants_pkey ON audit_log (at)"))
		require.NoError(t, err)
		var te *pgbackup.ToolError
		require.ErrorAs(t, verr, &te, "%v", verr)
		assert.Contains(t, verr.Error(), "restore the post-data section of "+b.Path)
		assert.Contains(t, verr.Error(), `relation "grants_pkey" already exists`)
		assert.Nil(t, b.Verified)
		assert.Empty(t, databases(t, `%\_verify\_%`))
	})

	// What the post-data section holds is compared by definition after it
	// is applied: a trigger that is not in the source is named.
	t.Run("a_definition_not_in_the_source_is_named", func(t *testing.T) {
		src := newDB(t, schema)
		_, verr, err := pgbackup.DumpVerified(t.Context(), src, t.TempDir(), src.Server,
			alterCopy(t, `CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
				CREATE TRIGGER extra BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION noop()`))
		require.NoError(t, err)
		var mm *pgbackup.MismatchError
		require.ErrorAs(t, verr, &mm, "%v", verr)
		assert.Contains(t, verr.Error(), "trigger public.audit_log.extra: in the restored copy (CREATE TRIGGER extra BEFORE INSERT ON public.audit_log FOR EACH ROW EXECUTE FUNCTION noop()) but not in the source at dump time")
	})

	// pg_dump leaves an invalid index out (a failed CREATE INDEX
	// CONCURRENTLY leaves one behind): it is not expected in the copy.
	t.Run("an_invalid_index_is_not_expected", func(t *testing.T) {
		src := newDB(t, schema+"INSERT INTO audit_log SELECT * FROM audit_log;")
		c := connect(t, urlOf(t, src.Database))
		_, err := c.Exec(t.Context(), "CREATE UNIQUE INDEX CONCURRENTLY audit_log_line ON audit_log (line)")
		require.ErrorContains(t, err, "could not create unique index", "the duplicated lines leave the index invalid")
		b, verr, err := pgbackup.DumpVerified(t.Context(), src, t.TempDir(), src.Server)
		require.NoError(t, err)
		require.NoError(t, verr)
		assert.NotContains(t, b.Access, "index public.audit_log_line")
	})

	// An index whose build runs the database's own function is built on
	// the rows: applied to an empty table it would never run the function,
	// and pg_restore runs with an empty search_path, where a function
	// that reads another table unqualified fails.
	t.Run("an_index_that_runs_the_databases_own_code_is_built_on_the_rows", func(t *testing.T) {
		const lookup = `CREATE TABLE lookup (k int PRIMARY KEY, v int);
			INSERT INTO lookup SELECT i, i * 2 FROM generate_series(1, 10) i;
			CREATE TABLE t (id int);
			INSERT INTO t SELECT generate_series(1, 10);
			CREATE FUNCTION lk(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT v FROM lookup WHERE k = $1' %s;
			CREATE INDEX t_lk ON t (lk(id));`
		t.Run("fails_where_the_full_restore_would", func(t *testing.T) {
			src := newDB(t, fmt.Sprintf(lookup, ""))
			b, verr, err := pgbackup.DumpVerified(t.Context(), src, t.TempDir(), src.Server)
			require.NoError(t, err)
			var te *pgbackup.ToolError
			require.ErrorAs(t, verr, &te, "%v", verr)
			assert.Contains(t, verr.Error(), `relation "lookup" does not exist`)
			assert.Nil(t, b.Verified)
		})
		t.Run("passes_where_it_builds", func(t *testing.T) {
			src := newDB(t, fmt.Sprintf(lookup, "SET search_path = public"))
			b, verr, err := pgbackup.DumpVerified(t.Context(), src, t.TempDir(), src.Server)
			require.NoError(t, err)
			require.NoError(t, verr)
			assert.Equal(t, pgbackup.PostDataOnRows+": index t_lk uses function lk(integer)", b.Verified.PostData)
		})
	})

	t.Run("a_restore_that_cannot_start_never_blocks_nor_fails_the_dump", func(t *testing.T) {
		src := newDB(t, schema)
		bad := src.Server
		bad.Container = "no-such-container-runbook"
		b, verr, err := pgbackup.DumpVerified(t.Context(), src, t.TempDir(), bad)
		require.NoError(t, err)
		var te *pgbackup.ToolError
		require.ErrorAs(t, verr, &te)
		assert.Contains(t, verr.Error(), "No such container")
		sum, _, err := pgbackup.FileSHA256(b.Path)
		require.NoError(t, err)
		assert.Equal(t, b.SHA256, sum, "the whole dump was written")
		assert.Equal(t, int64(566), b.Rows())
	})

	t.Run("no_backup_no_restore_left", func(t *testing.T) {
		src := newDB(t, schema)
		missing := src
		missing.Database = src.Database + "_missing"
		dir := t.TempDir()
		_, verr, err := pgbackup.DumpVerified(t.Context(), missing, dir, src.Server)
		require.Error(t, err)
		assert.NoError(t, verr)
		left, _ := filepath.Glob(filepath.Join(dir, "*"))
		assert.Empty(t, left)
		assert.Empty(t, databases(t, `%\_verify\_%`))
	})
}
