package pgbackup

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Access is what an application needs of a database besides its rows:
// who owns each object and who may do what with it. It is recorded at
// dump time, in the dump's snapshot, and compared with the restored copy:
// a restore that loses an owner, a grant, a default privilege, a
// database-level setting or an extension is not the database the
// application ran on ("permission denied" right after a "verified"
// rollback).
//
// Keys name the object as a person would look for it: "database" (the
// database itself, whatever its name), "settings" and "settings for role
// granter_app" (ALTER DATABASE ... SET, ALTER ROLE ... IN DATABASE ...
// SET), "schema public", "table public.grants", "sequence
// public.grants_id_seq", "view ...", "column public.t.c" (column
// privileges), "function public.f(integer)", "default privileges for role
// granter_owner in schema public on tables", "extension pg_trgm". A
// table's Value says whether row-level security is on ("row security on",
// ", forced").
// Objects that belong to an extension are the extension's.
//
// It also holds what the application relies on in the archive's
// post-data section, by definition: "index public.grants_pkey" (its
// CREATE INDEX), "constraint public.grants.grants_pkey" (its definition),
// "trigger public.t.name", "policy public.t.name", and a domain's
// "constraint public.d.name". A restore that leaves out a unique index, a
// foreign key, a trigger or a row-level policy is not the database the
// application ran on either.
type Access map[string]AccessEntry

// AccessEntry is one object's owner and privileges.
type AccessEntry struct {
	Owner string `json:"owner,omitempty"`
	// ACL is the object's privileges as sorted aclitems
	// ("granter_app=arwd/granter_owner"; an empty grantee is PUBLIC). An
	// object left at its default privileges shows them (acldefault), so a
	// default written out and a default left implicit compare equal.
	ACL []string `json:"acl,omitempty"`
	// Config is a settings entry's name=value pairs, sorted.
	Config []string `json:"config,omitempty"`
	// Value is an extension's version and schema, a table's row
	// security, or a post-data object's definition.
	Value string `json:"value,omitempty"`
}

func (e AccessEntry) equal(o AccessEntry) bool {
	return e.Owner == o.Owner && e.Value == o.Value && slices.Equal(e.ACL, o.ACL) && slices.Equal(e.Config, o.Config)
}

// accessQuery lists Access, one row per object: key, owner, acl, config,
// value. The schema filter is tableList's.
const accessQuery = `
WITH ns AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
)
SELECT 'database', pg_get_userbyid(d.datdba),
       ARRAY(SELECT a::text FROM unnest(coalesce(d.datacl, acldefault('d', d.datdba))) a ORDER BY 1), '{}'::text[], ''
FROM pg_database d WHERE d.datname = current_database()
UNION ALL
SELECT 'settings' || coalesce(' for role ' || quote_ident(r.rolname), ''), coalesce(r.rolname, ''), '{}',
       ARRAY(SELECT c FROM unnest(s.setconfig) c ORDER BY 1), ''
FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase AND d.datname = current_database()
LEFT JOIN pg_roles r ON r.oid = s.setrole
UNION ALL
SELECT 'schema ' || quote_ident(ns.nspname), pg_get_userbyid(ns.nspowner),
       ARRAY(SELECT a::text FROM unnest(coalesce(ns.nspacl, acldefault('n', ns.nspowner))) a ORDER BY 1), '{}', ''
FROM ns
UNION ALL
SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'f' THEN 'foreign table ' ELSE 'table ' END
         || quote_ident(ns.nspname) || '.' || quote_ident(c.relname),
       pg_get_userbyid(c.relowner),
       ARRAY(SELECT a::text FROM unnest(coalesce(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a ORDER BY 1), '{}',
       CASE WHEN c.relrowsecurity THEN 'row security on' || CASE WHEN c.relforcerowsecurity THEN ', forced' ELSE '' END ELSE '' END
FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
UNION ALL
SELECT 'column ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname), '',
       ARRAY(SELECT x::text FROM unnest(a.attacl) x ORDER BY 1), '{}', ''
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'function ' || quote_ident(ns.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_userbyid(p.proowner),
       ARRAY(SELECT a::text FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a ORDER BY 1), '{}', ''
FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
UNION ALL
SELECT 'default privileges for role ' || quote_ident(pg_get_userbyid(da.defaclrole))
         || coalesce(' in schema ' || quote_ident(n.nspname), '') || ' on '
         || CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                  WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE da.defaclobjtype::text END,
       pg_get_userbyid(da.defaclrole),
       ARRAY(SELECT a::text FROM unnest(da.defaclacl) a ORDER BY 1), '{}', ''
FROM pg_default_acl da LEFT JOIN pg_namespace n ON n.oid = da.defaclnamespace
UNION ALL
SELECT 'extension ' || quote_ident(x.extname), '', '{}', '{}',
       'version ' || x.extversion || ', schema ' || quote_ident(n.nspname)
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
UNION ALL
SELECT 'index ' || quote_ident(ns.nspname) || '.' || quote_ident(c.relname), '', '{}', '{}', pg_get_indexdef(c.oid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN ns ON ns.oid = c.relnamespace
WHERE (i.indisvalid OR t.relkind = 'p') AND i.indisready -- pg_dump's own filter: an invalid index is not in the dump
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = i.indrelid AND e.deptype = 'e')
UNION ALL
SELECT 'constraint ' || quote_ident(ns.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(k.conname), '', '{}', '{}',
       pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END
FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN ns ON ns.oid = t.relnamespace
WHERE k.conparentid = 0 -- a partition's copy of its parent's key is the parent's entry, and is restored under its name
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = t.oid AND e.deptype = 'e')
UNION ALL
SELECT 'constraint ' || quote_ident(ns.nspname) || '.' || quote_ident(y.typname) || '.' || quote_ident(k.conname), '', '{}', '{}',
       pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END
FROM pg_constraint k JOIN pg_type y ON y.oid = k.contypid JOIN ns ON ns.oid = y.typnamespace
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = y.oid AND e.deptype = 'e')
UNION ALL
SELECT 'trigger ' || quote_ident(ns.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(g.tgname), '', '{}', '{}',
       pg_get_triggerdef(g.oid) || CASE g.tgenabled WHEN 'O' THEN '' WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (enabled replica)' WHEN 'A' THEN ' (enabled always)' END
FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid JOIN ns ON ns.oid = t.relnamespace
WHERE NOT g.tgisinternal
UNION ALL
SELECT 'policy ' || quote_ident(ns.nspname) || '.' || quote_ident(t.relname) || '.' || quote_ident(p.polname), '', '{}', '{}',
       CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END || ' for ' || p.polcmd::text
         || ' to ' || array_to_string(ARRAY(SELECT CASE r WHEN 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r ORDER BY 1), ',')
         || coalesce(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
         || coalesce(' with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
FROM pg_policy p JOIN pg_class t ON t.oid = p.polrelid JOIN ns ON ns.oid = t.relnamespace`

// accessOf reads the Access of the database q is connected to.
func accessOf(ctx context.Context, q querier) (Access, error) {
	rows, err := q.Query(ctx, accessQuery)
	if err != nil {
		return nil, fmt.Errorf("read owners, privileges and definitions: %w", err)
	}
	out := Access{}
	var key string
	var e AccessEntry
	_, err = pgx.ForEachRow(rows, []any{&key, &e.Owner, &e.ACL, &e.Config, &e.Value}, func() error {
		out[key] = AccessEntry{Owner: e.Owner, ACL: nonEmpty(e.ACL), Config: nonEmpty(e.Config), Value: e.Value}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read owners, privileges and definitions: %w", err)
	}
	return out, nil
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// AccessDiff is one object whose owner or privileges differ between the
// source at dump time and the restored copy.
type AccessDiff struct {
	Object              string
	Want, Got           AccessEntry
	Missing, Unexpected bool
}

func (d AccessDiff) String() string {
	switch {
	case d.Missing:
		return fmt.Sprintf("%s: missing from the restored copy (at dump time: %s)", d.Object, d.Want.describe())
	case d.Unexpected:
		return fmt.Sprintf("%s: in the restored copy (%s) but not in the source at dump time", d.Object, d.Got.describe())
	}
	var parts []string
	if d.Want.Owner != d.Got.Owner {
		parts = append(parts, fmt.Sprintf("owner %s restored, %s at dump time", orNone(d.Got.Owner), orNone(d.Want.Owner)))
	}
	if !slices.Equal(d.Want.ACL, d.Got.ACL) {
		parts = append(parts, fmt.Sprintf("privileges {%s} restored, {%s} at dump time", strings.Join(d.Got.ACL, ","), strings.Join(d.Want.ACL, ",")))
	}
	if !slices.Equal(d.Want.Config, d.Got.Config) {
		parts = append(parts, fmt.Sprintf("settings {%s} restored, {%s} at dump time", strings.Join(d.Got.Config, ", "), strings.Join(d.Want.Config, ", ")))
	}
	if d.Want.Value != d.Got.Value {
		parts = append(parts, fmt.Sprintf("%s restored, %s at dump time", d.Got.Value, d.Want.Value))
	}
	return d.Object + ": " + strings.Join(parts, "; ")
}

func (e AccessEntry) describe() string {
	var parts []string
	if e.Owner != "" {
		parts = append(parts, "owner "+e.Owner)
	}
	if len(e.ACL) > 0 {
		parts = append(parts, "privileges {"+strings.Join(e.ACL, ",")+"}")
	}
	if len(e.Config) > 0 {
		parts = append(parts, "settings {"+strings.Join(e.Config, ", ")+"}")
	}
	if e.Value != "" {
		parts = append(parts, e.Value)
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// CompareAccess lists the differences between want (dump time) and got
// (restored), sorted by object.
func CompareAccess(want, got Access) []AccessDiff {
	var diffs []AccessDiff
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, AccessDiff{Object: k, Want: w, Missing: true})
		case !w.equal(g):
			diffs = append(diffs, AccessDiff{Object: k, Want: w, Got: g})
		}
	}
	older := !slices.ContainsFunc(slices.Collect(maps.Keys(want)), isDefinition)
	for k, g := range got {
		if older && isDefinition(k) {
			continue // a manifest written before definitions were recorded
		}
		if _, ok := want[k]; !ok {
			diffs = append(diffs, AccessDiff{Object: k, Got: g, Unexpected: true})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].Object < diffs[j].Object })
	return diffs
}

// definitionKinds are the keys of the post-data section's objects.
var definitionKinds = []string{"index ", "constraint ", "trigger ", "policy "}

func isDefinition(key string) bool {
	return slices.ContainsFunc(definitionKinds, func(k string) bool { return strings.HasPrefix(key, k) })
}

// Roles are the roles the access names (owners, grantees, grantors, roles
// with settings), sorted: they must exist on a server the backup is
// restored to.
func (a Access) Roles() []string {
	set := map[string]bool{}
	for _, e := range a {
		if e.Owner != "" {
			set[e.Owner] = true
		}
		for _, item := range e.ACL {
			grantee, grantor := aclRoles(item)
			for _, r := range []string{grantee, grantor} {
				if r != "" {
					set[r] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// owners are the roles that own something: the restoring role must be a
// member of each to give them their objects back.
func (a Access) owners() []string {
	set := map[string]bool{}
	for k, e := range a {
		if e.Owner != "" && !strings.HasPrefix(k, "settings") {
			set[e.Owner] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// aclItem is one parsed aclitem: grantee=privileges/grantor.
type aclItem struct {
	grantee, privs, grantor string
}

// parseACLItem reads the text form of an aclitem. Role names are
// double-quoted when they need it, with "" for a quote; an empty grantee
// is PUBLIC.
func parseACLItem(s string) (aclItem, bool) {
	grantee, rest, ok := cutName(s, '=')
	if !ok {
		return aclItem{}, false
	}
	privs, grantor, ok := strings.Cut(rest, "/")
	if !ok {
		return aclItem{}, false
	}
	grantor, _, _ = cutName(grantor, 0)
	return aclItem{grantee: grantee, privs: privs, grantor: grantor}, true
}

// cutName reads a possibly quoted role name up to sep (0: the end).
func cutName(s string, sep byte) (name, rest string, ok bool) {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' && quoted && i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && sep != 0 && c == sep:
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", sep == 0
}

func aclRoles(item string) (grantee, grantor string) {
	it, ok := parseACLItem(item)
	if !ok {
		return "", ""
	}
	return it.grantee, it.grantor
}

// databasePrivileges maps an aclitem's letters on a database to GRANT's
// words.
var databasePrivileges = map[byte]string{'C': "CREATE", 'T': "TEMPORARY", 'c': "CONNECT"}

// MissingRolesError says the server lacks roles the backup's objects
// belong to or are granted to, or the restoring role cannot act for an
// owner. Nothing was changed.
type MissingRolesError struct {
	Server    string
	Missing   []string // roles that do not exist
	NotMember []string // owners the restoring role is not a member of
	User      string   // the restoring role
}

func (e *MissingRolesError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, fmt.Sprintf("the backup's objects are owned by or granted to roles that do not exist on %s: %s (create them first: CREATE ROLE ...; roles are cluster-wide and not in a database backup)",
			e.Server, strings.Join(e.Missing, ", ")))
	}
	if len(e.NotMember) > 0 {
		parts = append(parts, fmt.Sprintf("the restoring role %s is not a member of %s, so it cannot give them their objects back (GRANT %s TO %s)",
			e.User, strings.Join(e.NotMember, ", "), strings.Join(e.NotMember, ", "), e.User))
	}
	return "restore refused before any change: " + strings.Join(parts, "; ")
}

// checkRoles returns a *MissingRolesError when the server the session is
// on lacks a role a is about, or the session's role cannot act for an
// owner of a.
func checkRoles(ctx context.Context, conn *pgx.Conn, srv Server, a Access) error {
	roles, owners := a.Roles(), a.owners()
	rows, err := conn.Query(ctx, `SELECT r, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r),
		EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) AND pg_has_role(current_user, r, 'MEMBER'), current_user::text
		FROM unnest($1::text[]) r ORDER BY 1`, roles)
	if err != nil {
		return fmt.Errorf("check the backup's roles on %s: %w", srv, err)
	}
	e := &MissingRolesError{Server: srv.String()}
	var role string
	var exists, member bool
	_, err = pgx.ForEachRow(rows, []any{&role, &exists, &member, &e.User}, func() error {
		switch {
		case !exists:
			e.Missing = append(e.Missing, role)
		case !member && slices.Contains(owners, role):
			e.NotMember = append(e.NotMember, role)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("check the backup's roles on %s: %w", srv, err)
	}
	if len(e.Missing) > 0 || len(e.NotMember) > 0 {
		return e
	}
	return nil
}

// applyDatabaseAccess gives the restored database db what pg_restore does
// not carry without --create (which would restore into the original name):
// the database's owner, its privileges and its settings, as recorded in a.
// conn is on another database of the same server.
func applyDatabaseAccess(ctx context.Context, conn *pgx.Conn, db string, a Access) error {
	id := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	d, ok := a["database"]
	if !ok {
		return fmt.Errorf("the backup's manifest records no owner for the database")
	}
	var stmts []string
	stmts = append(stmts, "ALTER DATABASE "+id(db)+" OWNER TO "+id(d.Owner))
	var def []string
	if err := conn.QueryRow(ctx, `SELECT ARRAY(SELECT a::text FROM unnest(acldefault('d', $1::regrole::oid)) a ORDER BY 1)`, d.Owner).Scan(&def); err != nil {
		return fmt.Errorf("default privileges of a database owned by %s: %w", d.Owner, err)
	}
	if !slices.Equal(def, d.ACL) {
		stmts = append(stmts, "REVOKE ALL ON DATABASE "+id(db)+" FROM PUBLIC, "+id(d.Owner))
		for _, item := range d.ACL {
			it, ok := parseACLItem(item)
			if !ok {
				return fmt.Errorf("database privileges: cannot read %q", item)
			}
			to := "PUBLIC"
			if it.grantee != "" {
				to = id(it.grantee)
			}
			var plain, withOption []string
			for i := 0; i < len(it.privs); i++ {
				word, ok := databasePrivileges[it.privs[i]]
				if !ok {
					return fmt.Errorf("database privileges: unknown privilege %q in %q", it.privs[i], item)
				}
				if i+1 < len(it.privs) && it.privs[i+1] == '*' {
					withOption = append(withOption, word)
					i++
				} else {
					plain = append(plain, word)
				}
			}
			// The grantor is recorded as who granted: act as them.
			stmts = append(stmts, "SET ROLE "+id(it.grantor))
			if len(plain) > 0 {
				stmts = append(stmts, "GRANT "+strings.Join(plain, ", ")+" ON DATABASE "+id(db)+" TO "+to)
			}
			if len(withOption) > 0 {
				stmts = append(stmts, "GRANT "+strings.Join(withOption, ", ")+" ON DATABASE "+id(db)+" TO "+to+" WITH GRANT OPTION")
			}
			stmts = append(stmts, "RESET ROLE")
		}
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		if strings.HasPrefix(k, "settings") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := a[k]
		alter := "ALTER DATABASE " + id(db)
		if e.Owner != "" {
			alter = "ALTER ROLE " + id(e.Owner) + " IN DATABASE " + id(db)
		}
		for _, kv := range e.Config {
			name, value, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("%s: cannot read %q", k, kv)
			}
			stmts = append(stmts, alter+" SET "+id(name)+" TO "+settingValue(name, value))
		}
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "RESET ROLE")
			return fmt.Errorf("give the restored database %s its owner, privileges and settings: %s: %w", db, s, err)
		}
	}
	return nil
}

// listSettings hold lists whose text form is already SQL (quoted
// identifiers separated by commas), as pg_dumpall writes them back.
var listSettings = map[string]bool{"search_path": true, "temp_tablespaces": true,
	"session_preload_libraries": true, "local_preload_libraries": true, "shared_preload_libraries": true}

func settingValue(name, value string) string {
	if listSettings[strings.ToLower(name)] {
		return value
	}
	return "'" + strings.ReplaceAll(value, "'", "''") + "'"
}
