package pgbackup_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
)

// Take a backup, prove it restores, then find it again as "the latest
// verified backup" the way Step 1.1 and the rollback do.
func Example() {
	ctx := context.Background()
	// Locally the tools run inside the Postgres container; leave Container
	// empty to run the host's pg_dump/pg_restore against the URL.
	src := pgbackup.Source{
		Server: pgbackup.Server{
			URL:       target.NewSecret("DATABASE_URL", db.ConnString()), // a Secret: never printed
			Container: db.Container.GetContainerID(),
		},
		Database: "granter_db",
	}
	if err := loadExample(ctx, db.ConnString()); err != nil {
		fmt.Println(err)
		return
	}
	dir, cleanup := tempDir()
	defer cleanup()

	b, err := pgbackup.Dump(ctx, src, dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(filepath.Base(b.Path), "backup-"), len(b.SHA256), b.Tables["example_grants"].Rows)

	v, err := pgbackup.Verify(ctx, b, src.Server) // restore into a scratch database, compare, drop it
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verified:", v.Tables, "table,", v.Rows, "rows")

	latest, err := pgbackup.LatestVerified(dir, "granter_db")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(latest.Path == b.Path)
	// Output:
	// true 64 3
	// verified: 1 table, 3 rows
	// true
}

func loadExample(ctx context.Context, url string) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, `DROP TABLE IF EXISTS example_grants;
		CREATE TABLE example_grants (id int PRIMARY KEY, title text);
		INSERT INTO example_grants VALUES (1, 'a'), (2, 'b'), (3, 'c');`)
	return err
}
