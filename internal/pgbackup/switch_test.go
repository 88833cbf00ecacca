package pgbackup_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/pgbackup"
)

// An interrupted switch always leaves the database accepting connections,
// and a second Restore completes or undoes it: interrupted at each of its
// points, by a cancellation (Ctrl-C, SIGTERM: the switch settles the state
// itself) and by a kill (nothing runs after it: the next Restore repairs).
func TestSwitchInterrupted(t *testing.T) {
	src := newDB(t, schema)
	t.Cleanup(func() { dropLike(t, src.Database+`\_before\_%`) })
	b, err := pgbackup.Dump(t.Context(), src, t.TempDir())
	require.NoError(t, err)

	for _, point := range pgbackup.SwitchPoints {
		name := strings.NewReplacer(" ", "_", "(", "", ")", "").Replace(point)
		t.Run("cancelled_at_"+name, func(t *testing.T) {
			exec(t, src.Database, "DELETE FROM grants WHERE id <= 100")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			_, err := pgbackup.Restore(ctx, b, src, pgbackup.WithSwitchHook(func(p string) bool {
				if p == point {
					cancel()
				}
				return false
			}))
			if point != pgbackup.SwitchPoints[len(pgbackup.SwitchPoints)-1] {
				require.Error(t, err, "the switch was cancelled at %q", point)
				assert.Contains(t, err.Error(), "interrupted at")
				t.Logf("cancelled at %q: %v", point, err)
			}
			assertAcceptsConnections(t, src.Database)
			assert.Empty(t, databases(t, src.Database+`\_restore\_%`), "the restored copy is dropped or switched in")

			r, err := pgbackup.Restore(t.Context(), b, src)
			require.NoError(t, err, "a second restore completes")
			assert.Empty(t, r.Recovered, "the cancelled switch settled itself: nothing left to repair")
			assert.Equal(t, "501", scalar(t, src.Database, "SELECT count(*) FROM grants"))
			assertAcceptsConnections(t, src.Database)
		})
	}
	for _, point := range pgbackup.SwitchPoints[:4] {
		name := strings.NewReplacer(" ", "_", "(", "", ")", "").Replace(point)
		t.Run("killed_at_"+name, func(t *testing.T) {
			exec(t, src.Database, "DELETE FROM grants WHERE id <= 100")
			_, err := pgbackup.Restore(t.Context(), b, src, pgbackup.WithSwitchHook(func(p string) bool { return p == point }))
			require.ErrorContains(t, err, "killed")
			// What a killed process leaves: something refuses connections.
			refusing := scalar(t, "postgres", "SELECT count(*) FROM pg_database WHERE NOT datallowconn AND datname LIKE '"+src.Database+"%'")
			assert.Equal(t, "1", refusing, "the kill left one database refusing connections (the test's premise)")

			r, err := pgbackup.Restore(t.Context(), b, src)
			require.NoError(t, err, "a second restore repairs and completes")
			require.NotEmpty(t, r.Recovered, "the second restore says what it repaired")
			t.Logf("killed at %q; the second restore repaired: %s", point, strings.Join(r.Recovered, "; "))
			assert.Contains(t, strings.Join(r.Recovered, "; "), "connections allowed again")
			assert.Equal(t, "501", scalar(t, src.Database, "SELECT count(*) FROM grants"))
			assertAcceptsConnections(t, src.Database)
			assert.Empty(t, databases(t, src.Database+`\_restore\_%`))
		})
	}

	t.Run("database_missing_is_renamed_back", func(t *testing.T) {
		// A switch that renamed the database away and died before the new
		// one took its name (not possible with the one-transaction rename,
		// but what a person fixing things by hand may leave).
		other := pgbackup.Source{Server: src.Server, Database: "t_missing_db"}
		exec(t, "postgres", "DROP DATABASE IF EXISTS t_missing_db WITH (FORCE)")
		exec(t, "postgres", "CREATE DATABASE t_missing_db")
		t.Cleanup(func() { dropLike(t, "t\\_missing\\_db%") })
		exec(t, other.Database, "CREATE TABLE a (id int); INSERT INTO a VALUES (1)")
		aside := other.Database + "_before_20261207_140000_ab12"
		exec(t, "postgres", "ALTER DATABASE "+other.Database+" RENAME TO "+aside)
		exec(t, "postgres", "ALTER DATABASE "+aside+" WITH ALLOW_CONNECTIONS false")
		did, err := pgbackup.RecoverSwitch(t.Context(), other)
		require.NoError(t, err)
		assert.Equal(t, []string{
			aside + " was refusing connections (a switch killed half-way): connections allowed again",
			other.Database + " was missing and " + aside + " kept aside (a switch killed half-way): renamed back to " + other.Database,
		}, did)
		assertAcceptsConnections(t, other.Database)
		assert.Equal(t, "1", scalar(t, other.Database, "SELECT count(*) FROM a"))
	})
}

func assertAcceptsConnections(t *testing.T, database string) {
	t.Helper()
	for _, name := range append([]string{database}, databases(t, database+`\_before\_%`)...) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := pgx.Connect(ctx, urlOf(t, name))
		if assert.NoError(t, err, "database %s must accept connections", name) {
			var one int
			assert.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&one))
			_ = c.Close(ctx)
		}
		cancel()
	}
}

func dropLike(t testing.TB, like string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, db.ConnString())
	if err != nil {
		t.Errorf("drop %s: %v", like, err)
		return
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", like)
	if err != nil {
		t.Errorf("drop %s: %v", like, err)
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Errorf("drop %s: %v", like, err)
		return
	}
	for _, n := range names {
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", n, err)
		}
	}
}
