//go:build !staging && !prod

package rollback_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
)

// snapshot is what a refused or dry-run rollback must leave unchanged:
// the images and replicas, the databases on the server, the journal, the
// team channel.
type snapshot struct {
	images    map[string]string
	replicas  map[string]int32
	databases []string
	journal   []byte
	messages  int
}

func take(t *testing.T, runDir string) snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := snapshot{images: map[string]string{}, replicas: map[string]int32{}, messages: len(env.Webhook.Messages())}
	for _, name := range []string{target.BackendCore, target.DataService, target.WebFrontend} {
		imgs, err := kube.CurrentImages(ctx, env.Cluster.Clientset, env.Namespace, name)
		require.NoError(t, err)
		s.images[name] = imgs[name]
		sc, err := env.Cluster.Clientset.AppsV1().Deployments(env.Namespace).GetScale(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		s.replicas[name] = sc.Spec.Replicas
	}
	conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database ORDER BY 1")
	require.NoError(t, err)
	s.databases, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	s.journal, _ = os.ReadFile(filepath.Join(runDir, journal.FileName))
	return s
}

func requireRefused(t *testing.T, err error, why ...string) {
	t.Helper()
	require.Error(t, err)
	var ec *exitcode.Error
	require.ErrorAs(t, err, &ec, "a refusal carries its exit code")
	assert.Equal(t, exitcode.Refused, ec.Code, "exit code: %v", err)
	var re *exitcode.Refusal
	require.ErrorAs(t, err, &re)
	for _, w := range why {
		assert.Contains(t, err.Error(), w)
	}
	t.Logf("refused, as it must be: %v", err)
}

// recordBackup writes a run folder whose journal names b as Step 1.1's
// backup, and Phase 3 as having set v2.0.0 (nothing is deployed: the
// rollback must refuse before it looks further).
func recordBackup(t *testing.T, b *pgbackup.Backup, verified string) string {
	t.Helper()
	runDir := filepath.Join(t.TempDir(), "20260303-140000-local")
	j, err := journal.Open(runDir, "20260303-140000-local", tgt.Env, tgt.Redact)
	require.NoError(t, err)
	defer j.Close()
	if b != nil {
		data := map[string]string{journal.KeyBackupFile: b.Path, journal.KeyBackupSHA256: b.SHA256}
		if verified != "" {
			data[journal.KeyBackupVerified] = verified
		}
		require.NoError(t, j.Add(journal.Entry{Phase: "phase1", Step: "1.1", Action: "final database backup", Status: journal.StatusOK, Data: data}))
	}
	for _, name := range []string{target.BackendCore, target.DataService, target.WebFrontend} {
		require.NoError(t, j.Add(journal.Entry{Phase: "phase3", Step: "3.x", Action: "set image", Status: journal.StatusOK,
			Data: map[string]string{journal.KeyDeployment: name, journal.KeyImageBefore: "granter/" + name + ":" + granter.V1, journal.KeyImageAfter: "granter/" + name + ":" + granter.V2}}))
	}
	return runDir
}

func dump(t *testing.T, verify bool) pgbackup.Backup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src, err := pgbackup.SourceOf(tgt)
	require.NoError(t, err)
	b, err := pgbackup.Dump(ctx, src, tgt.Backup.Dir)
	require.NoError(t, err)
	if verify {
		_, err = pgbackup.Verify(ctx, b, src.Server)
		require.NoError(t, err)
		b, err = pgbackup.ReadManifest(b.ManifestPath())
		require.NoError(t, err)
	}
	return b
}

// "It refuses without a verified backup, and says why": nothing changes.
func TestRefusesWithoutVerifiedBackup(t *testing.T) {
	reset(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(t *testing.T, runDir string) error {
		before := take(t, runDir)
		var buf bytes.Buffer
		_, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: runDir, Out: &buf})
		assert.Equal(t, before, take(t, runDir), "a refused rollback changes nothing")
		assert.Contains(t, buf.String(), "rollback refused", "the refusal is printed")
		return err
	}

	t.Run("no_backup_in_the_journal", func(t *testing.T) {
		requireRefused(t, run(t, recordBackup(t, nil, "")), "names no backup", "backup.file")
	})
	t.Run("no_journal", func(t *testing.T) {
		requireRefused(t, run(t, t.TempDir()), "no journal")
	})
	t.Run("journal_says_not_verified", func(t *testing.T) {
		b := dump(t, true)
		requireRefused(t, run(t, recordBackup(t, &b, "false")), "was not verified", "backup.verified")
	})
	t.Run("backup_never_verified", func(t *testing.T) {
		b := dump(t, false)
		requireRefused(t, run(t, recordBackup(t, &b, "")), "never verified", filepath.Base(b.Path))
	})
	t.Run("sha256_no_longer_matches", func(t *testing.T) {
		b := dump(t, true)
		runDir := recordBackup(t, &b, "true")
		f, err := os.OpenFile(b.Path, os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.Write([]byte("x"))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		requireRefused(t, run(t, runDir), "no longer matches", "sha256", "take a new backup")
	})
	t.Run("journal_and_manifest_disagree", func(t *testing.T) {
		b := dump(t, true)
		other := b
		other.SHA256 = strings.Repeat("0", 64)
		requireRefused(t, run(t, recordBackup(t, &other, "true")), "not the same backup")
	})
}

// A production-like target (a confirm word) refuses without it.
func TestRefusesWithoutConfirmation(t *testing.T) {
	reset(t)
	b := dump(t, true)
	runDir := recordBackup(t, &b, "true")
	saved := tgt.Confirm
	tgt.Confirm = "prod"
	defer func() { tgt.Confirm = saved }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, word := range []string{"", "yes", "staging"} {
		before := take(t, runDir)
		_, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: runDir, Confirm: word, Out: out(t)})
		requireRefused(t, err, "CONFIRM=prod", "--confirm=prod")
		assert.Equal(t, before, take(t, runDir), "no confirmation, no change (word %q)", word)
	}
}

// A dry run prints the plan and every manual command, and touches
// nothing: no image, no replica, no database, no journal line, no message.
func TestDryRunTouchesNothing(t *testing.T) {
	reset(t)
	d := deploy(t, granter.V2)
	before := take(t, d.runDir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf bytes.Buffer
	res, err := rollback.Run(ctx, tgt, rollback.Options{RunDir: d.runDir, DryRun: true, Out: &buf})
	require.NoError(t, err)
	assert.Equal(t, before, take(t, d.runDir), "a dry run changes nothing")
	plan := buf.String()
	t.Log(plan)
	for _, want := range []string{
		"rollback plan for local: v2.0.0 -> v1.9.0",
		kube.Describe(tgt) + " scale deployment/backend-core --replicas=0",
		kube.Describe(tgt) + " set image deployment/data-service data-service=granter/data-service:v1.9.0",
		kube.Describe(tgt) + " rollout status deployment/web-frontend --timeout=5m",
		"pg_restore", filepath.Base(d.backup.Path), "ROLLBACK COMPLETE - System stable on v1.9.0",
		"dry run: nothing was changed",
	} {
		assert.Contains(t, plan, want)
	}
	require.NotNil(t, res.Plan)
	assert.Len(t, res.Plan.Changed(), 3)

	// The preflight entry point (checklist item 6), before any deployment:
	// no journal yet, the plan comes from the current state.
	reset(t)
	_ = dump(t, true)
	require.NoError(t, rollback.DryRun(ctx, tgt, t.TempDir()))
}
