package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/exitcode"
)

func checklistEvents(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestRenderExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	code := checklistMain([]string{"-env", "local", "-quiet"}, strings.NewReader(checklistEvents(
		`{"Action":"run","Package":"p","Test":"TestDatabaseBackup"}`,
		`{"Action":"run","Package":"p","Test":"TestDatabaseBackup/Full_backup_taken"}`,
		`{"Action":"output","Package":"p","Test":"TestDatabaseBackup/Full_backup_taken","Output":"    runt.go:44: FAILED: dump granter_db: pg_dump: connection refused\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestDatabaseBackup/Full_backup_taken"}`,
		`{"Action":"fail","Package":"p","Test":"TestDatabaseBackup"}`,
		`{"Action":"fail","Package":"p"}`,
	)), &out, &errOut)
	assert.Equal(t, exitcode.Preflight, code)
	assert.Contains(t, out.String(), "❌ Full backup taken: FAILED: dump granter_db: pg_dump: connection refused")
	assert.Contains(t, errOut.String(), "exit 3 (preflight blocker)")

	out.Reset()
	code = checklistMain(nil, strings.NewReader("not json at all\n"), &out, &errOut)
	assert.Equal(t, exitcode.Internal, code)
}

func TestRecordSmoke(t *testing.T) {
	var lines []string
	for _, f := range []string{"TestAuth", "TestSearch", "TestScraper", "TestIA", "TestHealth"} {
		lines = append(lines, `{"Action":"run","Package":"s","Test":"`+f+`"}`, `{"Action":"pass","Package":"s","Test":"`+f+`"}`)
	}
	lines = append(lines, `{"Action":"pass","Package":"s"}`)
	path := filepath.Join(t.TempDir(), "staging-smoke-v2.0.0.json")
	var out, errOut bytes.Buffer
	code := checklistMain([]string{"record-smoke", "-env", "staging", "-version", "v2.0.0", "-o", path}, strings.NewReader(checklistEvents(lines...)), &out, &errOut)
	require.Equal(t, exitcode.OK, code, errOut.String())
	var rec checklist.SmokeRecord
	require.NoError(t, checklist.ReadJSON(path, &rec))
	assert.True(t, rec.Passed)
	assert.NoError(t, rec.Check("staging", "v2.0.0"))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// One flow failed: recorded as not passed, and the command says so.
	bad := strings.Replace(checklistEvents(lines...), `"pass","Package":"s","Test":"TestIA"`, `"fail","Package":"s","Test":"TestIA"`, 1)
	code = checklistMain([]string{"record-smoke", "-env", "staging", "-version", "v2.0.0", "-o", path}, strings.NewReader(bad), &out, &errOut)
	assert.Equal(t, exitcode.Smoke, code)
	require.NoError(t, checklist.ReadJSON(path, &rec))
	assert.False(t, rec.Passed)
	assert.ErrorContains(t, rec.Check("staging", "v2.0.0"), "TestIA failed")
}

func TestAck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acks.jsonl")
	var out, errOut bytes.Buffer
	code := checklistMain([]string{"ack", "-file", path, "-item", "3", "-sub", "Video call active", "-by", "alice", "-note", "meet.example.com/granter"}, nil, &out, &errOut)
	require.Equal(t, exitcode.OK, code, errOut.String())
	a, err := checklist.FindAck(path, 3, "Video call active", rec0())
	require.NoError(t, err)
	assert.Equal(t, "alice", a.By)
	_, err = checklist.FindAck(path, 3, "All team members online", rec0())
	assert.ErrorContains(t, err, "runbook checklist ack")

	code = checklistMain([]string{"ack", "-file", path, "-item", "3", "-sub", "Video call", "-by", "alice"}, nil, &out, &errOut)
	assert.Equal(t, exitcode.Internal, code)
	assert.Contains(t, errOut.String(), `has no sub-item "Video call"`)
}

// rec0 is a time before any ack of the test.
func rec0() time.Time { return time.Now().Add(-time.Minute) }
