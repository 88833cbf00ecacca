package pgbackup

import (
	"context"
	"errors"
	"os"

	"github.com/jackc/pgx/v5"
)

// WithLossyRestore restores the way the runbook used to, with
// `pg_restore --no-owner --no-privileges`: the verification must catch it.
func WithLossyRestore() Option {
	return func(o *options) { o.restoreArgs = []string{"--no-owner", "--no-privileges"} }
}

// SwitchPoints are the points of the switch, in order.
var SwitchPoints = []string{pointRefused, pointTerminated, pointRenamed, pointCommitted, pointAllowed}

// WithSwitchHook calls at after each point of the switch (pointRenamed:
// inside the renaming transaction, before its commit). at returns true to
// stop the switch dead there, as a SIGKILL would: nothing is repaired and
// the restored copy is left behind.
func WithSwitchHook(at func(point string) (kill bool)) Option {
	return func(o *options) { o.switchHook = at }
}

// BarePgDump runs `pg_dump --format=custom` of src into path where Dump
// runs it (inside the container, or the host's), streamed the same way,
// and nothing else: the benchmarks' yardstick.
func BarePgDump(ctx context.Context, src Source, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	t := tool{srv: src.Server, database: src.Database, name: "pg_dump", args: []string{"--format=custom", "--no-password"}, stdout: f}
	return errors.Join(t.run(ctx), f.Close())
}

// BarePgRestore creates the database name on srv and runs a plain
// `pg_restore` of path into it, as Restore runs it: the yardstick of the
// restore. The caller drops name.
func BarePgRestore(ctx context.Context, srv Server, path, name string) error {
	conn, err := srv.connect(ctx, MaintenanceDB)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	t := pgRestore(Source{Server: srv, Database: name}, options{}, f)
	return t.run(ctx)
}
