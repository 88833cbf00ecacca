//go:build !staging && !prod

package rollback_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke"
)

// One whole local platform for the package (Postgres, services, cluster,
// Prometheus, webhook sink), at v1.9.0 as production is before a
// deployment. Tests run one after the other and start from reset().
var (
	env *localenv.Env
	tgt *target.Target
)

func TestMain(m *testing.M) {
	var err error
	if tgt, err = target.Load(); err != nil {
		fmt.Fprintln(os.Stderr, "runbook:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*localenv.StartTimeout)
	env, err = localenv.Start(ctx, tgt, localenv.WithProgress(os.Stderr), localenv.WithVersion(granter.V1))
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runbook: local platform:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "runbook: local platform close:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// testWriter sends the rollback's lines to the test log.
type testWriter struct {
	t  testing.TB
	mu sync.Mutex
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(l)
	}
	return len(p), nil
}

func out(t testing.TB) *testWriter { return &testWriter{t: t} }

// reset puts the platform back as a deployment finds it: every deployment
// at v1.9.0 with 2 replicas, the database as the platform seeded it, every
// fault off, the backups in a fresh folder.
func reset(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs, ns := env.Cluster.Clientset, env.Namespace
	for _, name := range []string{target.BackendCore, target.DataService, target.WebFrontend} {
		require.NoError(t, kube.SetImage(ctx, cs, ns, name, name, "granter/"+name+":"+granter.V1))
		require.NoError(t, kube.Scale(ctx, cs, ns, name, 2))
	}
	for _, name := range []string{target.BackendCore, target.DataService, target.WebFrontend} {
		require.NoError(t, kube.WaitRollout(ctx, cs, ns, name))
		waitVersion(t, name, granter.V1)
	}
	require.NoError(t, env.Platform.Reset(ctx))
	tgt.Backup.Dir = t.TempDir()
	t.Cleanup(func() { dropSetAside(t) })
}

// dropSetAside drops the databases the rollbacks kept aside
// (granter_db_before_*), as an operator does after the post-mortem.
func dropSetAside(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
	if err != nil {
		t.Logf("drop set-aside databases: %v", err)
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'granter_db\\_before\\_%'")
	if err != nil {
		t.Logf("drop set-aside databases: %v", err)
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	src, _ := pgbackup.SourceOf(tgt)
	for _, n := range names {
		if err := pgbackup.Drop(ctx, src.Server, n); err != nil {
			t.Logf("drop %s: %v", n, err)
		}
	}
}

// waitVersion waits until the service's /health answers at version: the
// bridge restarts services when it sees a rollout complete, asynchronously.
func waitVersion(t testing.TB, service, version string) {
	t.Helper()
	c, err := httpcheck.ForService(tgt, service)
	require.NoError(t, err)
	svc, _ := tgt.Service(service)
	_, h, err := c.WaitHealthy(context.Background(), svc.Health, version, 30*time.Second, nil)
	require.NoError(t, err)
	require.Equal(t, version, h.Version, "%s: the health answer must say its version", service)
}

// deployment is a local deployment as deploy records it: the run
// folder and its journal, the backup Step 1.1 took.
type deployment struct {
	runDir string
	backup pgbackup.Backup
}

// deploy runs Phases 1-3 of the runbook for version, recording in a new
// run folder's journal what the rollback reads (the contract of
// rollback's package doc): Step 1.1's verified backup, Step
// 1.3's drain, Phase 2's migrations, Phase 3's images before and after.
func deploy(t testing.TB, version string) deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	runDir := filepath.Join(t.TempDir(), time.Now().UTC().Format("20060102-150405")+"-local")
	j, err := journal.Open(runDir, filepath.Base(runDir), tgt.Env, tgt.Redact)
	require.NoError(t, err)
	defer j.Close()
	add := func(e journal.Entry) {
		if e.Data == nil {
			e.Data = map[string]string{}
		}
		e.Data[journal.KeyVersion], e.Data[journal.KeyPrevious] = version, granter.V1
		require.NoError(t, j.Add(e))
	}
	cs, ns := env.Cluster.Clientset, env.Namespace

	// Step 1.1: Final Database Backup, verified.
	src, err := pgbackup.SourceOf(tgt)
	require.NoError(t, err)
	b, err := pgbackup.Dump(ctx, src, tgt.Backup.Dir)
	require.NoError(t, err)
	_, err = pgbackup.Verify(ctx, b, src.Server)
	require.NoError(t, err)
	add(journal.Entry{Phase: "phase1", Step: "1.1", Action: "final database backup", Status: journal.StatusOK,
		Data: map[string]string{journal.KeyBackupFile: b.Path, journal.KeyBackupSHA256: b.SHA256, journal.KeyBackupVerified: "true"}})
	b, err = pgbackup.ReadManifest(b.ManifestPath())
	require.NoError(t, err)

	// Step 1.3: Drain backend-core.
	add(journal.Entry{Phase: "phase1", Step: "1.3", Action: "drain backend-core", Status: journal.StatusOK,
		Data: map[string]string{journal.KeyDeployment: target.BackendCore, journal.KeyReplicasBefore: "2"}})
	require.NoError(t, kube.ScaleAndWait(ctx, cs, ns, target.BackendCore, 0))

	// Phase 2: migrations.
	applied, err := env.Platform.Migrate(ctx, nil)
	require.NoError(t, err)
	add(journal.Entry{Phase: "phase2", Step: "2.1", Action: "run pending migrations", Status: journal.StatusOK,
		Data: map[string]string{journal.KeyMigrationsNew: fmt.Sprint(len(applied))}})

	// Phase 3: images, recorded before they are set; backend-core back
	// to its replicas with its new image.
	for _, name := range []string{target.BackendCore, target.DataService, target.WebFrontend} {
		before, err := kube.CurrentImages(ctx, cs, ns, name)
		require.NoError(t, err)
		after := "granter/" + name + ":" + version
		data := map[string]string{journal.KeyDeployment: name, journal.KeyImageBefore: before[name], journal.KeyImageAfter: after}
		add(journal.Entry{Phase: "phase3", Step: "3.x", Action: "set image " + name, Status: journal.StatusStarted, Data: data})
		require.NoError(t, kube.SetImage(ctx, cs, ns, name, name, after))
		if name == target.BackendCore {
			require.NoError(t, kube.Scale(ctx, cs, ns, name, 2))
		}
		require.NoError(t, kube.WaitRollout(ctx, cs, ns, name))
		add(journal.Entry{Phase: "phase3", Step: "3.x", Action: "rollout " + name, Status: journal.StatusOK,
			Data: map[string]string{journal.KeyDeployment: name, journal.KeyImageBefore: before[name], journal.KeyImageAfter: after, journal.KeyRollout: "complete"}})
		waitVersion(t, name, version)
	}
	return deployment{runDir: runDir, backup: b}
}

// changeData writes what users of the new version would: a registered
// user, edited and new grants. The rollback must set it aside.
func changeData(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, _ := tgt.Service(target.BackendCore)
	body := strings.NewReader(`{"email":"after-backup@smoke.example.com","password":"correct-horse-9","name":"After Backup"}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, svc.URL+"/auth/register", body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, "register a user on the new version")
	conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `UPDATE grants SET title = title || ' (edited on v2)' WHERE id IN (SELECT id FROM grants ORDER BY id LIMIT 3)`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO grants (ref, title, summary, funder, category, region, amount, deadline, url)
		VALUES ('AFTER-BACKUP-1', 'Written after the backup', 'x', 'Bpifrance', 'innovation', 'national', 5000, DATE '2027-01-01', 'https://grants.example.com/after')`)
	require.NoError(t, err)
}

// smokeOptions lets Step 6's IA flow switch the local AI provider off.
func smokeOptions() smoke.Options {
	return smoke.Options{AIProviderOutage: suite.AIProviderOutageOn(env.Platform)}
}
