package pgbackup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// TableStat is what a table held: its row count and a checksum of its
// content.
type TableStat struct {
	Rows int64 `json:"rows"`
	// Checksum is 16 hex digits derived from the sum of a 64-bit hash of
	// every row's text form (so row order, which a restore does not keep,
	// does not matter, and no sort is needed). Any changed, missing or
	// extra row changes it, but for a 2^-64 chance.
	Checksum string `json:"checksum"`
}

// tableList lists the ordinary tables of the database, as schema.table,
// skipping the system schemas.
const tableList = `
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY 1`

// statQuery counts a table's rows and sums a 64-bit hash of each row's
// text form (hashtextextended), in numeric: no overflow. One pass, one
// conversion and one hash per row, and a plan PostgreSQL may run in
// parallel workers: the md5 it replaces cost about as much as the dump
// itself. FROM ONLY: an inherited table's rows are counted in their own
// table, once.
func statQuery(table string) string {
	return `SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM ONLY ` + table + ` t`
}

// listTables lists tableList through q.
func listTables(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.Query(ctx, tableList)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return tables, nil
}

// querier is a pgx.Conn or a pgx.Tx.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tableStats computes every table's TableStat through q (inside a
// repeatable-read transaction at dump time, so in the dump's snapshot).
func tableStats(ctx context.Context, q querier) (map[string]TableStat, error) {
	tables, err := listTables(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make(map[string]TableStat, len(tables))
	for _, t := range tables {
		var st TableStat
		var a string
		if err := q.QueryRow(ctx, statQuery(t)).Scan(&st.Rows, &a); err != nil {
			return nil, fmt.Errorf("count and checksum table %s: %w", t, err)
		}
		sum := sha256.Sum256([]byte(a))
		st.Checksum = hex.EncodeToString(sum[:8])
		out[displayName(t)] = st
	}
	return out, nil
}

// displayName drops the public schema: grants, not public.grants.
func displayName(t string) string { return strings.TrimPrefix(t, "public.") }

// TableDiff is one table that differs between the source at dump time and
// the restored copy.
type TableDiff struct {
	Table               string
	Want, Got           TableStat
	Missing, Unexpected bool // not restored / not in the source
}

func (d TableDiff) String() string {
	switch {
	case d.Missing:
		return fmt.Sprintf("table %s: missing from the restored copy (%d rows at dump time)", d.Table, d.Want.Rows)
	case d.Unexpected:
		return fmt.Sprintf("table %s: in the restored copy (%d rows) but not in the source at dump time", d.Table, d.Got.Rows)
	case d.Want.Rows != d.Got.Rows:
		return fmt.Sprintf("table %s: %d rows restored, %d at dump time", d.Table, d.Got.Rows, d.Want.Rows)
	default:
		return fmt.Sprintf("table %s: content checksum %s restored, %s at dump time (same %d rows, different content)", d.Table, d.Got.Checksum, d.Want.Checksum, d.Want.Rows)
	}
}

// compare lists the differences between want (dump time) and got
// (restored), sorted by table.
func compare(want, got map[string]TableStat) []TableDiff {
	var diffs []TableDiff
	for t, w := range want {
		g, ok := got[t]
		switch {
		case !ok:
			diffs = append(diffs, TableDiff{Table: t, Want: w, Missing: true})
		case g != w:
			diffs = append(diffs, TableDiff{Table: t, Want: w, Got: g})
		}
	}
	for t, g := range got {
		if _, ok := want[t]; !ok {
			diffs = append(diffs, TableDiff{Table: t, Got: g, Unexpected: true})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Table < diffs[j].Table })
	return diffs
}

// MismatchError says the restored copy is not what was dumped.
type MismatchError struct {
	Database string // the source database
	Scratch  string // where it was restored
	Diffs    []TableDiff
	Access   []AccessDiff // owners, privileges, definitions, settings, extensions
}

func (e *MismatchError) Error() string {
	parts := make([]string, 0, len(e.Diffs)+len(e.Access))
	for _, d := range e.Diffs {
		parts = append(parts, d.String())
	}
	for _, d := range e.Access {
		parts = append(parts, d.String())
	}
	return fmt.Sprintf("the backup of %s restored into %s differs from %s at dump time: %s",
		e.Database, e.Scratch, e.Database, strings.Join(parts, "; "))
}

func totalRows(m map[string]TableStat) int64 {
	var n int64
	for _, s := range m {
		n += s.Rows
	}
	return n
}
