package runfolder_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/rollback/runfolder"
)

const (
	v1 = "v1.9.0"
	v2 = "v2.0.0"
)

var services = []string{"backend-core", "data-service", "web-frontend"}

// write journals entries into root/name, each a minute after start.
func write(t *testing.T, root, name string, start time.Time, entries ...journal.Entry) string {
	t.Helper()
	dir := filepath.Join(root, name)
	j, err := journal.Open(dir, name, "prod", nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, j.Close()) }()
	for i, e := range entries {
		e.Time = start.Add(time.Duration(i) * time.Minute)
		require.NoError(t, j.Add(e))
	}
	return dir
}

// backupStep is Step 1.1 of a deployment of version, as deploy journals it.
func backupStep(version, file string) journal.Entry {
	return journal.Entry{Phase: journal.Phase1, Step: "1.1", Action: "Final Database Backup", Status: journal.StatusOK,
		Data: map[string]string{journal.KeyBackupFile: file, journal.KeyBackupSHA256: "abc", journal.KeyVersion: version}}
}

// setImage is a Phase 3 set-image step that recorded before -> version.
func setImage(svc, before, version string) journal.Entry {
	return journal.Entry{Phase: journal.Phase3, Step: "3.x", Action: "Deploy " + svc + ": set image", Status: journal.StatusOK,
		Data: map[string]string{journal.KeyDeployment: svc, journal.KeyImageBefore: "granter/" + svc + ":" + before,
			journal.KeyPrevious: before, journal.KeyImageAfter: "granter/" + svc + ":" + version, journal.KeyVersion: version}}
}

// checklistBackup is what `make preflight` journals for checklist item 1.
func checklistBackup(file string) journal.Entry {
	return journal.Entry{Phase: journal.Preflight, Step: "1", Action: "backup verified", Status: journal.StatusOK,
		Data: map[string]string{"file": file, "sha256": "def", journal.KeyVersion: v2}}
}

func TestNewest(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

	t.Run("a preflight folder newer than the deployment is not chosen", func(t *testing.T) {
		root := t.TempDir()
		deployed := write(t, root, "20260303-140000-prod", t0, backupStep(v2, "/backups/backup-140100.dump"), setImage(services[0], v1, v2))
		write(t, root, "20260303-150000-prod", t0.Add(time.Hour), checklistBackup("/backups/backup-150000.dump"))

		c, err := runfolder.Newest(root, "prod")
		require.NoError(t, err)
		assert.Equal(t, deployed, c.Dir, "the deployment run, not the newer preflight folder")
		assert.Equal(t, "/backups/backup-140100.dump", c.Backup)
	})

	t.Run("a folder holding only a rollback is not chosen", func(t *testing.T) {
		root := t.TempDir()
		deployed := write(t, root, "20260303-140000-prod", t0, backupStep(v2, "/backups/backup-140100.dump"))
		write(t, root, "20260303-160000-prod", t0.Add(2*time.Hour), journal.Entry{Phase: journal.Rollback, Step: "3", Action: "Rollback Database (restore)",
			Status: journal.StatusOK, Data: map[string]string{journal.KeyBackupFile: "/backups/backup-140100.dump", journal.KeyBackupSHA256: "abc"}})

		c, err := runfolder.Newest(root, "prod")
		require.NoError(t, err)
		assert.Equal(t, deployed, c.Dir, "the deployment run, not the rollback-only folder")
	})

	t.Run("the reason names the folder, the start, the release, the backup and what was passed over", func(t *testing.T) {
		root := t.TempDir()
		deployed := write(t, root, "20260303-140000-prod", t0, backupStep(v2, "/backups/backup-140100.dump"))
		write(t, root, "20260303-150000-prod", t0.Add(time.Hour), checklistBackup("/backups/backup-150000.dump"))

		c, err := runfolder.Newest(root, "prod")
		require.NoError(t, err)
		why := c.Reason()
		for _, want := range []string{deployed, "2026-03-03T14:00:00Z", v2, "/backups/backup-140100.dump", "20260303-150000-prod (not a deployment run (preflight entries only"} {
			assert.Contains(t, why, want)
		}
	})

	t.Run("no deployment run: the error says what each folder is", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, "20260303-150000-prod", t0, checklistBackup("/backups/backup-150000.dump"))

		_, err := runfolder.Newest(root, "prod")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no deployment run of prod")
		assert.Contains(t, err.Error(), "20260303-150000-prod: not a deployment run (preflight entries only")
	})

	t.Run("another environment's deployment is not chosen", func(t *testing.T) {
		root := t.TempDir()
		deployed := write(t, root, "20260303-140000-prod", t0, backupStep(v2, "/backups/a.dump"))
		write(t, root, "20260303-150000-staging", t0.Add(time.Hour), backupStep(v2, "/backups/b.dump"))

		c, err := runfolder.Newest(root, "prod")
		require.NoError(t, err)
		assert.Equal(t, deployed, c.Dir)
	})
}

func TestPrevious(t *testing.T) {
	t0 := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

	t.Run("a second deployment of the release after a partial attempt yields the first deployment's images", func(t *testing.T) {
		root := t.TempDir()
		// The first attempt set backend-core and data-service to v2.0.0,
		// then stopped.
		write(t, root, "20260303-140000-prod", t0, backupStep(v2, "/backups/a.dump"),
			setImage(services[0], v1, v2), setImage(services[1], v1, v2))
		// The second, into a new folder, found them on v2.0.0.
		entries := []journal.Entry{backupStep(v2, "/backups/b.dump"),
			setImage(services[0], v2, v2), setImage(services[1], v2, v2), setImage(services[2], v1, v2)}
		second := write(t, root, "20260303-150000-prod", t0.Add(time.Hour), entries...)
		entries, err := journal.Read(second)
		require.NoError(t, err)

		b, err := runfolder.Previous(second, "prod", v2, entries)
		require.NoError(t, err)
		for _, svc := range services {
			assert.Equal(t, "granter/"+svc+":"+v1, b.Images[svc].Image, "%s: the image before %s (from %s)", svc, v2, b.Images[svc].From)
		}
		assert.Contains(t, b.Images[services[0]].From, "20260303-140000-prod", "read from the first deployment")
		assert.Equal(t, v1, b.Version, "the previous version (from %s)", b.VersionFrom)
	})

	t.Run("a later deployment of the release is not read, nor another release's", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, "20260303-130000-prod", t0.Add(-time.Hour), backupStep("v1.9.5", "/backups/z.dump"), setImage(services[0], "v1.8.0", "v1.9.5"))
		write(t, root, "20260303-160000-prod", t0.Add(2*time.Hour), backupStep(v2, "/backups/c.dump"), setImage(services[0], "v1.7.0", v2))
		second := write(t, root, "20260303-150000-prod", t0.Add(time.Hour), backupStep(v2, "/backups/b.dump"), setImage(services[0], v2, v2))
		entries, err := journal.Read(second)
		require.NoError(t, err)

		b, err := runfolder.Previous(second, "prod", v2, entries)
		require.NoError(t, err)
		_, ok := b.Images[services[0]]
		assert.False(t, ok, "no image before %s is known: got %+v", v2, b.Images[services[0]])
		assert.Empty(t, b.Version, "from %s", b.VersionFrom)
		msg := b.Missing(v2, []string{services[0]})
		assert.Contains(t, msg, services[0])
		assert.Contains(t, msg, second)
	})
}
