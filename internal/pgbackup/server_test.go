package pgbackup

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/target"
)

func TestPasswordOnlyInTheEnvironment(t *testing.T) {
	const pw = "pw-s3cret-s3cret"
	url := target.NewSecret("DB_URL", "postgres://granter:"+pw+"@db.example.com:6432/granter_db?sslmode=verify-full&sslrootcert=/etc/ca.pem")
	for _, container := range []string{"", "abc123"} {
		tl := tool{srv: Server{URL: url, Container: container}, database: "granter_db", name: "pg_dump", args: []string{"--format=custom"}}
		cmd, err := tl.command(context.Background())
		require.NoError(t, err)
		assert.NotContains(t, strings.Join(cmd.Args, " "), pw, "argv is visible to every user (ps)")
		assert.Contains(t, cmd.Env, "PGPASSWORD="+pw)
		assert.Contains(t, cmd.Env, "PGDATABASE=granter_db")
		assert.NotContains(t, tl.manual(), pw)
		if container == "" {
			assert.Equal(t, []string{"pg_dump", "--format=custom"}, cmd.Args)
			assert.Subset(t, cmd.Env, []string{"PGHOST=db.example.com", "PGPORT=6432", "PGSSLMODE=verify-full", "PGSSLROOTCERT=/etc/ca.pem", "PGUSER=granter"})
		} else {
			assert.Equal(t, []string{"docker", "exec", "-e", "PGDATABASE", "-e", "PGPASSWORD", "-e", "PGUSER", "abc123", "pg_dump", "--format=custom"}, cmd.Args)
			for _, kv := range cmd.Env {
				assert.False(t, strings.HasPrefix(kv, "PGHOST="), "inside the container the tools use the local socket")
			}
		}
	}
}

func TestUnknownURLParameterRefused(t *testing.T) {
	srv := Server{URL: target.NewSecret("DB_URL", "postgres://u:p@h/db?target_session_attrs=read-write")}
	_, err := srv.pgEnv("db")
	assert.ErrorContains(t, err, `parameter "target_session_attrs" is not supported`)
	assert.NotContains(t, err.Error(), "u:p@")
}

func TestCompareSaysExpectedAndSeen(t *testing.T) {
	want := map[string]TableStat{"grants": {600, "aa"}, "users": {3, "bb"}, "gone": {1, "cc"}}
	got := map[string]TableStat{"grants": {599, "ax"}, "users": {3, "bx"}, "extra": {2, "dd"}}
	var s []string
	for _, d := range compare(want, got) {
		s = append(s, d.String())
	}
	assert.Equal(t, []string{
		"table extra: in the restored copy (2 rows) but not in the source at dump time",
		"table gone: missing from the restored copy (1 rows at dump time)",
		"table grants: 599 rows restored, 600 at dump time",
		"table users: content checksum bx restored, bb at dump time (same 3 rows, different content)",
	}, s)
}
