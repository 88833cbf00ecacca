package backup_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/backup"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt)) }

// TestDatabaseBackup is checklist item 1 against the target:
// TestDatabaseBackup/Full_backup_taken, .../Backup_verified_&_downloadable,
// .../Backup_time. It writes into a temporary folder, not backup.dir.
func TestDatabaseBackup(t *testing.T) {
	flow.RunT(t, backup.New(tgt, backup.WithDir(t.TempDir())))
}
