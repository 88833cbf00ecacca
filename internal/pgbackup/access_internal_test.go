package pgbackup

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseACLItem(t *testing.T) {
	for in, want := range map[string]aclItem{
		"granter_app=arwd/granter_owner":  {grantee: "granter_app", privs: "arwd", grantor: "granter_owner"},
		"=Tc/granter_owner":               {grantee: "", privs: "Tc", grantor: "granter_owner"},
		`"odd=""name"=r*/"own/er"`:        {grantee: `odd="name`, privs: "r*", grantor: "own/er"},
		"granter_owner=CTc/granter_owner": {grantee: "granter_owner", privs: "CTc", grantor: "granter_owner"},
	} {
		got, ok := parseACLItem(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok := parseACLItem("no equals sign")
	assert.False(t, ok)
}

func TestCompareAccessSaysExpectedAndSeen(t *testing.T) {
	want := Access{
		"database":            {Owner: "granter_owner", ACL: []string{"=Tc/granter_owner", "granter_owner=CTc/granter_owner"}},
		"settings":            {Config: []string{"statement_timeout=5s"}},
		"table public.grants": {Owner: "granter_owner", ACL: []string{"granter_app=arwd/granter_owner", "granter_owner=arwdDxt/granter_owner"}},
		"extension pg_trgm":   {Value: "version 1.6, schema public"},
		"schema public":       {Owner: "pg_database_owner"},
	}
	got := Access{
		"database":            {Owner: "granter", ACL: []string{"=Tc/granter", "granter=CTc/granter"}},
		"table public.grants": {Owner: "granter", ACL: []string{"granter=arwdDxt/granter"}},
		"schema public":       {Owner: "pg_database_owner"},
		"table public.extra":  {Owner: "granter"},
	}
	var s []string
	for _, d := range CompareAccess(want, got) {
		s = append(s, d.String())
	}
	assert.Equal(t, []string{
		"database: owner granter restored, granter_owner at dump time; privileges {=Tc/granter,granter=CTc/granter} restored, {=Tc/granter_owner,granter_owner=CTc/granter_owner} at dump time",
		"extension pg_trgm: missing from the restored copy (at dump time: version 1.6, schema public)",
		"settings: missing from the restored copy (at dump time: settings {statement_timeout=5s})",
		"table public.extra: in the restored copy (owner granter) but not in the source at dump time",
		"table public.grants: owner granter restored, granter_owner at dump time; privileges {granter=arwdDxt/granter} restored, {granter_app=arwd/granter_owner,granter_owner=arwdDxt/granter_owner} at dump time",
	}, s)
	assert.Equal(t, []string{"granter_app", "granter_owner", "pg_database_owner"}, want.Roles())
	assert.Equal(t, []string{"granter_owner", "pg_database_owner"}, want.owners())
}

// A manifest written before definitions were recorded has none: the
// restored copy's are not "unexpected" then. A manifest that has some is
// held to all of them.
func TestCompareAccessOlderManifest(t *testing.T) {
	got := Access{
		"table public.grants":       {Owner: "granter_owner"},
		"index public.grants_pkey":  {Value: "CREATE UNIQUE INDEX grants_pkey ON public.grants USING btree (id)"},
		"trigger public.grants.trg": {Value: "CREATE TRIGGER trg ..."},
	}
	older := Access{"table public.grants": {Owner: "granter_owner"}}
	assert.Empty(t, CompareAccess(older, got))

	newer := Access{"table public.grants": {Owner: "granter_owner"}, "index public.grants_pkey": got["index public.grants_pkey"]}
	diffs := CompareAccess(newer, got)
	if assert.Len(t, diffs, 1) {
		assert.Equal(t, "trigger public.grants.trg: in the restored copy (CREATE TRIGGER trg ...) but not in the source at dump time", diffs[0].String())
	}
}
