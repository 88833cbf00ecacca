package pgbackup_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/pgbackup"
)

// The roles of a production database: an owner that owns the schema and
// the tables (the migrations run as it), and the application's role that
// owns nothing and may only read and write rows.
const (
	ownerRole = "granter_owner"
	appRole   = "granter_app"
	appPass   = "app-pw-local-only"
)

// ensureRoles creates the two roles once on the package's server: roles
// are cluster-wide and survive every database test.
func ensureRoles(t testing.TB) {
	t.Helper()
	admin := connect(t, db.ConnString())
	_, err := admin.Exec(t.Context(), `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+ownerRole+`') THEN CREATE ROLE `+ownerRole+` NOLOGIN; END IF;
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+appRole+`') THEN CREATE ROLE `+appRole+` LOGIN PASSWORD '`+appPass+`'; END IF;
	END $$`)
	require.NoError(t, err)
}

// distinctRolesSchema is run in the database as the superuser: the
// database owned by the owner role, a database-wide setting and one for
// the application role, CONNECT only for the application, an extension,
// two schemas, default privileges, tables created after them, a sequence,
// a function the application may execute and a column privilege.
func distinctRolesSchema(database string) string {
	d := pgx.Identifier{database}.Sanitize()
	return `
ALTER DATABASE ` + d + ` OWNER TO granter_owner;
ALTER DATABASE ` + d + ` SET statement_timeout = '5s';
ALTER ROLE granter_app IN DATABASE ` + d + ` SET work_mem = '8MB';
REVOKE ALL ON DATABASE ` + d + ` FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ` + d + ` TO granter_app;
SET ROLE granter_owner;
CREATE EXTENSION pg_trgm;
CREATE SCHEMA billing;
GRANT USAGE ON SCHEMA billing TO granter_app;
ALTER DEFAULT PRIVILEGES FOR ROLE granter_owner IN SCHEMA public, billing GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO granter_app;
ALTER DEFAULT PRIVILEGES FOR ROLE granter_owner IN SCHEMA public, billing GRANT USAGE, SELECT ON SEQUENCES TO granter_app;
ALTER DEFAULT PRIVILEGES FOR ROLE granter_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
CREATE TABLE grants (id bigserial PRIMARY KEY, title text NOT NULL, amount bigint);
CREATE INDEX grants_title_trgm ON grants USING gin (title gin_trgm_ops);
INSERT INTO grants (title, amount) SELECT 'grant ' || i, i * 100 FROM generate_series(1, 300) i;
CREATE TABLE billing.invoices (id serial PRIMARY KEY, total numeric(12,2), secret text);
REVOKE ALL ON billing.invoices FROM granter_app;
GRANT SELECT (id, total), INSERT (total), UPDATE (total) ON billing.invoices TO granter_app;
GRANT USAGE ON SEQUENCE billing.invoices_id_seq TO granter_app;
INSERT INTO billing.invoices (total, secret) SELECT i * 9.99, 'x' FROM generate_series(1, 20) i;
CREATE FUNCTION grant_count() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM grants';
GRANT EXECUTE ON FUNCTION grant_count() TO granter_app;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_all ON billing.invoices TO granter_app USING (true) WITH CHECK (total >= 0);
RESET ROLE;`
}

// connectAs opens a session on database as role.
func connectAs(t testing.TB, database, role, password string) (*pgx.Conn, error) {
	t.Helper()
	cfg, err := pgx.ParseConfig(urlOf(t, database))
	require.NoError(t, err)
	cfg.User, cfg.Password = role, password
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if c != nil {
		t.Cleanup(func() { _ = c.Close(context.Background()) })
	}
	return c, err
}

func TestRestoreExactlyWithDistinctRoles(t *testing.T) {
	ensureRoles(t)
	src := newDB(t, "")
	exec(t, src.Database, distinctRolesSchema(src.Database))
	var available bool
	require.NoError(t, connect(t, urlOf(t, src.Database)).QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')").Scan(&available))
	require.True(t, available, "pg_trgm is installed in the test database")

	b, err := pgbackup.Dump(t.Context(), src, t.TempDir())
	require.NoError(t, err)

	t.Run("the_manifest_records_owners_grants_settings_extensions", func(t *testing.T) {
		a := b.Access
		assert.Equal(t, ownerRole, a["database"].Owner)
		assert.Contains(t, a["database"].ACL, "granter_app=Tc/granter_owner")
		assert.Equal(t, []string{"statement_timeout=5s"}, a["settings"].Config)
		assert.Equal(t, []string{"work_mem=8MB"}, a["settings for role granter_app"].Config)
		assert.Equal(t, ownerRole, a["table public.grants"].Owner)
		assert.Contains(t, a["table public.grants"].ACL, "granter_app=arwd/granter_owner")
		assert.Contains(t, a["sequence public.grants_id_seq"].ACL, "granter_app=rU/granter_owner")
		assert.Contains(t, a["column billing.invoices.total"].ACL, "granter_app=arw/granter_owner")
		assert.Contains(t, a["function public.grant_count()"].ACL, "granter_app=X/granter_owner")
		assert.Contains(t, a["default privileges for role granter_owner in schema public on tables"].ACL, "granter_app=arwd/granter_owner")
		assert.Contains(t, a["extension pg_trgm"].Value, "schema public")
		assert.Equal(t, "CREATE UNIQUE INDEX grants_pkey ON public.grants USING btree (id)", a["index public.grants_pkey"].Value)
		assert.Equal(t, "PRIMARY KEY (id)", a["constraint public.grants.grants_pkey"].Value)
		assert.Equal(t, "CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION touch()", a["trigger billing.invoices.invoices_touch"].Value)
		assert.Equal(t, "permissive for * to granter_app using (true) with check ((total >= (0)::numeric))", a["policy billing.invoices.app_all"].Value)
		assert.Equal(t, []string{"granter_app", "granter_owner", "pg_database_owner"}, a.Roles())
	})

	t.Run("verify_compares_them", func(t *testing.T) {
		v, err := pgbackup.Verify(t.Context(), b, src.Server)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, v.Objects, 12, "owners and privileges of every object were compared")
	})

	t.Run("a_lossy_restore_fails_the_verification", func(t *testing.T) {
		// What the runbook did before: pg_restore --no-owner --no-privileges.
		_, err := pgbackup.Verify(t.Context(), b, src.Server, pgbackup.WithLossyRestore())
		var me *pgbackup.MismatchError
		require.ErrorAs(t, err, &me)
		assert.Empty(t, me.Diffs, "the rows are all there: %v", err)
		msg := err.Error()
		for _, want := range []string{
			"table public.grants: owner granter restored, granter_owner at dump time; privileges {granter=arwdDxt/granter} restored, {granter_app=arwd/granter_owner,granter_owner=arwdDxt/granter_owner} at dump time",
			"column billing.invoices.total: missing from the restored copy",
			"default privileges for role granter_owner in schema public on tables: missing from the restored copy (at dump time: owner granter_owner, privileges {granter_app=arwd/granter_owner})",
			"schema billing: owner granter restored, granter_owner at dump time",
		} {
			assert.Contains(t, msg, want)
		}
		assert.Empty(t, databases(t, `%\_verify\_%`))
	})

	// The post-data section's objects are compared by definition: a
	// restore that loses a unique index or a key is not the database the
	// application ran on.
	t.Run("a_lost_index_fails_the_verification", func(t *testing.T) {
		_, err := pgbackup.Verify(t.Context(), b, src.Server, alterCopy(t, "ALTER TABLE grants DROP CONSTRAINT grants_pkey"))
		var me *pgbackup.MismatchError
		require.ErrorAs(t, err, &me)
		for _, want := range []string{
			"index public.grants_pkey: missing from the restored copy (at dump time: CREATE UNIQUE INDEX grants_pkey ON public.grants USING btree (id))",
			"constraint public.grants.grants_pkey: missing from the restored copy (at dump time: PRIMARY KEY (id))",
		} {
			assert.Contains(t, err.Error(), want)
		}
	})

	t.Run("a_lost_database_setting_fails_the_verification", func(t *testing.T) {
		_, err := pgbackup.Verify(t.Context(), b, src.Server, pgbackup.WithAfterRestore(func(ctx context.Context, copy pgbackup.Source) error {
			exec(t, "postgres", "ALTER DATABASE "+pgx.Identifier{copy.Database}.Sanitize()+" RESET statement_timeout")
			return nil
		}))
		var me *pgbackup.MismatchError
		require.ErrorAs(t, err, &me)
		require.Len(t, me.Access, 1, "only the settings differ: %v", err)
		assert.Contains(t, err.Error(), "settings: missing from the restored copy (at dump time: settings {statement_timeout=5s})")
	})

	// The deployment went wrong after the backup: rows changed, a grant
	// revoked, the owner of a table changed by a migration.
	exec(t, src.Database, `DELETE FROM grants WHERE id <= 10; REVOKE INSERT ON grants FROM granter_app;
		ALTER TABLE billing.invoices OWNER TO granter`)

	t.Run("restore_gives_everything_back", func(t *testing.T) {
		r, err := pgbackup.Restore(t.Context(), b, src)
		require.NoError(t, err)
		t.Cleanup(func() { _ = pgbackup.Drop(context.Background(), src.Server, r.Previous) })
		assert.Positive(t, r.Verification.Objects)

		app, err := connectAs(t, src.Database, appRole, appPass)
		require.NoError(t, err, "the application role connects (CONNECT granted on the restored database)")
		ctx := t.Context()
		var n int64
		require.NoError(t, app.QueryRow(ctx, "SELECT count(*) FROM grants").Scan(&n))
		assert.Equal(t, int64(300), n, "the application reads the restored rows")
		_, err = app.Exec(ctx, "INSERT INTO grants (title, amount) VALUES ('after the rollback', 1)")
		assert.NoError(t, err, "the application inserts (grant and sequence usage restored)")
		_, err = app.Exec(ctx, "UPDATE grants SET amount = amount + 1 WHERE id = 11")
		assert.NoError(t, err)
		_, err = app.Exec(ctx, "DELETE FROM grants WHERE id = 12")
		assert.NoError(t, err)
		_, err = app.Exec(ctx, "INSERT INTO billing.invoices (total) VALUES (1.5)")
		assert.NoError(t, err, "column privileges restored")
		require.NoError(t, app.QueryRow(ctx, "SELECT grant_count()").Scan(&n), "EXECUTE restored")
		var sim float64
		require.NoError(t, app.QueryRow(ctx, "SELECT similarity('grant 1', 'grant 12')").Scan(&sim), "the extension is back")
		var timeout, workMem string
		require.NoError(t, app.QueryRow(ctx, "SELECT current_setting('statement_timeout'), current_setting('work_mem')").Scan(&timeout, &workMem))
		assert.Equal(t, "5s", timeout, "ALTER DATABASE ... SET restored")
		assert.Equal(t, "8MB", workMem, "ALTER ROLE ... IN DATABASE ... SET restored")

		_, err = app.Exec(ctx, "SELECT secret FROM billing.invoices")
		assertDenied(t, err, "a column the application was never granted")
		_, err = app.Exec(ctx, "DROP TABLE grants")
		assertDenied(t, err, "the application owns nothing")

		// A table a later migration creates (as the owner) is usable by
		// the application: the default privileges came back.
		exec(t, src.Database, "SET ROLE granter_owner; CREATE TABLE later (id serial PRIMARY KEY, v text); RESET ROLE")
		_, err = app.Exec(ctx, "INSERT INTO later (v) VALUES ('x')")
		assert.NoError(t, err, "default privileges restored")

		var owner string
		require.NoError(t, app.QueryRow(ctx, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()").Scan(&owner))
		assert.Equal(t, ownerRole, owner)
	})

	t.Run("a_missing_role_is_refused_before_any_change", func(t *testing.T) {
		exec(t, "postgres", "DROP ROLE IF EXISTS granter_gone; CREATE ROLE granter_gone")
		exec(t, src.Database, "GRANT SELECT ON grants TO granter_gone")
		b2, err := pgbackup.Dump(t.Context(), src, t.TempDir())
		require.NoError(t, err)
		exec(t, src.Database, "REVOKE SELECT ON grants FROM granter_gone")
		exec(t, "postgres", "DROP ROLE granter_gone")
		before := scalar(t, src.Database, "SELECT count(*) FROM grants")

		_, err = pgbackup.Restore(t.Context(), b2, src)
		var mr *pgbackup.MissingRolesError
		require.ErrorAs(t, err, &mr)
		assert.Equal(t, []string{"granter_gone"}, mr.Missing)
		assert.Contains(t, err.Error(), "do not exist on container")
		assert.Equal(t, before, scalar(t, src.Database, "SELECT count(*) FROM grants"), "the database is untouched")
		assert.Empty(t, databases(t, `%\_restore\_%`))
	})
}

func assertDenied(t *testing.T, err error, what string) {
	t.Helper()
	var pe *pgconn.PgError
	if assert.ErrorAs(t, err, &pe, what) {
		assert.Equal(t, "42501", pe.Code, "%s: want permission denied, got %v", what, err)
	}
}
