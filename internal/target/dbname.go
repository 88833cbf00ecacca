package target

import (
	"fmt"
	"net/url"
	"strings"
)

// DatabaseNamed checks that the database URL points at the database the
// file names (database.name). The migrator (Phase 2, checklist item 5) is
// given this URL, while the backup, the verification and the restore
// work on database.name: a URL naming another database would migrate a
// database no backup protects. Only the database's name is ever printed,
// never the URL.
func DatabaseNamed(u Secret, name string) error {
	got, err := databaseOf(u.Reveal())
	if err != nil {
		return err
	}
	switch {
	case got == "":
		return fmt.Errorf("the URL names no database (PostgreSQL would use the role's name), but database.name is %q: name %s in the URL, so that the migrator and the backup work on the same database", name, name)
	case got != name:
		return fmt.Errorf("the URL points at database %q, but database.name is %q: the migrations would run against %s while the backup protects %s", got, name, got, name)
	}
	return nil
}

// databaseOf reads the database from a postgres:// URL or a keyword/value
// connection string (dbname=...).
func databaseOf(raw string) (string, error) {
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("the database URL does not parse")
		}
		if db := u.Query().Get("dbname"); db != "" {
			return db, nil
		}
		return strings.TrimPrefix(u.Path, "/"), nil
	}
	for _, f := range strings.Fields(raw) {
		if k, val, ok := strings.Cut(f, "="); ok && k == "dbname" {
			return strings.Trim(val, "'"), nil
		}
	}
	return "", nil
}
