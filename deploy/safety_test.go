package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke"
)

// counter is a TCP listener that counts every connection made to it and
// closes it at once: the stand-in for every endpoint of a remote target
// (the services, Prometheus, the webhook, the database, the Kubernetes
// API). Any request the runbook made would be counted.
type counter struct {
	ln net.Listener
	n  atomic.Int64
}

func newCounter(t *testing.T) *counter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &counter{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.n.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

func (c *counter) addr() string { return c.ln.Addr().String() }

// Planted secret values: they must never be printed.
const (
	plantedDBPassword = "Pl4nted-db-pw-91c2"
	plantedHookToken  = "planted-hook-token-77ad"
)

// remoteTarget loads environments/<env>.yaml as the staging or prod build
// would, with every endpoint pointing at the counter.
func remoteTarget(t *testing.T, env string, c *counter) *target.Target {
	t.Helper()
	upper := strings.ToUpper(env)
	vars := map[string]string{
		"RUNBOOK_" + upper + "_DATABASE_URL": "postgres://granter:" + plantedDBPassword + "@" + c.addr() + "/granter_db?sslmode=disable",
		"RUNBOOK_" + upper + "_WEBHOOK_URL":  "http://" + c.addr() + "/hooks/" + plantedHookToken,
		target.VersionEnv:                    "v2.0.0",
	}
	t2, err := target.LoadFile(filepath.Join("..", "environments", env+".yaml"), func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	})
	require.NoError(t, err)
	for i := range t2.Services {
		t2.Services[i].URL = "http://" + c.addr()
	}
	t2.Prometheus.URL = "http://" + c.addr()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: remote
  cluster: {server: "https://`+c.addr()+`", insecure-skip-tls-verify: true}
users:
- name: deployer
  user: {token: planted-kube-token}
contexts:
- name: `+t2.Kube.Context+`
  context: {cluster: remote, user: deployer, namespace: granter}
current-context: `+t2.Kube.Context+`
`), 0o600))
	t2.Kube.Kubeconfig = kubeconfig
	t2.Backup.Dir = filepath.Join(t.TempDir(), "backups")
	return t2
}

// The plan make deploy runs: the gates in process.
func cliPlan(tgt *target.Target) []deploy.Step {
	return deploy.Plan(tgt, "v2.0.0", deploy.Gates{
		Preflight: []deploy.Step{deploy.PreflightGate(tgt.Env, 10*time.Minute, deploy.PreflightItems)},
		Phase4:    deploy.InProcessPhase4(tgt, smoke.Options{}),
	})
}

// --dry-run against the prod configuration prints the whole plan, with the
// runbook's command for each step, and touches nothing: not one connection
// reaches any endpoint of the target.
func TestDryRunAgainstProdTouchesNothing(t *testing.T) {
	c := newCounter(t)
	prod := remoteTarget(t, "prod", c)
	dir := t.TempDir()
	j, err := journal.Open(dir, "dry", prod.Env, prod.Redact)
	require.NoError(t, err)
	var out bytes.Buffer
	steps := cliPlan(prod)
	oc := deploy.Run(context.Background(), prod, "v2.0.0", steps, deploy.Options{Out: &out, Journal: j, RunDir: dir, DryRun: true})
	oc.WriteSummary(&out, dir)
	require.NoError(t, j.Close())
	t.Log("\n" + out.String())

	assert.Zero(t, c.n.Load(), "a dry run must not connect to the target")
	assert.Equal(t, exitcode.OK, oc.Code)
	assert.Nil(t, oc.Refused, "a dry run needs no confirmation")
	assert.Len(t, oc.Steps, len(steps))
	for _, s := range steps {
		assert.Contains(t, out.String(), "▶ "+s.Label())
	}
	assert.Equal(t, len(steps), strings.Count(out.String(), "    would:   "))
	assert.Equal(t, len(steps), strings.Count(out.String(), "    runbook: "))
	k := "kubectl --kubeconfig " + prod.Kube.Kubeconfig + " --context granter-prod -n granter"
	for _, want := range []string{
		k + " scale deployment/backend-core --replicas=0",
		k + " set image deployment/backend-core backend-core=granter/backend-core:v2.0.0",
		k + " set image deployment/web-frontend web-frontend=granter/web-frontend:v2.0.0",
		k + " rollout status deployment/data-service --timeout=5m0s",
		`DATABASE_URL="$RUNBOOK_PROD_DATABASE_URL" npm run migration:run -- --env=production`,
		`pg_dump -Fc -Z1 -d "$RUNBOOK_PROD_DATABASE_URL"`,
		phase4.SmokeCommand(),
		"go test -count=1 -tags=prod ./preflight",
		"curl -fsS http://" + c.addr() + "/health",
		fmt.Sprintf("DRY RUN: %d steps planned, nothing was touched", len(steps)),
	} {
		assert.Contains(t, out.String(), want)
	}
	_, err = os.Stat(prod.Backup.Dir)
	assert.True(t, os.IsNotExist(err), "a dry run must not create the backup folder")
	entries, err := journal.Read(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.Equal(t, journal.StatusDryRun, e.Status, "a dry run journals its plan as dry-run, never as done")
	}
	for _, secret := range []string{plantedDBPassword, plantedHookToken} {
		assert.NotContains(t, out.String(), secret)
		b, _ := os.ReadFile(filepath.Join(dir, journal.FileName))
		assert.NotContains(t, string(b), secret)
	}
}

// Without the confirmation word, a step that changes staging or prod
// refuses before touching anything; the wrong word too.
func TestRefusesWithoutConfirmation(t *testing.T) {
	for _, env := range []string{"staging", "prod"} {
		for _, given := range []string{"", "local", "yes"} {
			for name, steps := range map[string]func(*target.Target) []deploy.Step{
				"deploy":           cliPlan,
				"drain":            func(t *target.Target) []deploy.Step { return deploy.Select(deploy.Phase1(t, "v2.0.0"), "1.3", "1.4") },
				"migrate":          func(t *target.Target) []deploy.Step { return deploy.Phase2(t) },
				journal.KeyRollout: func(t *target.Target) []deploy.Step { return deploy.Phase3(t, "v2.0.0") },
			} {
				t.Run(env+"/"+name+"/confirm="+given, func(t *testing.T) {
					c := newCounter(t)
					tg := remoteTarget(t, env, c)
					var out bytes.Buffer
					oc := deploy.Run(context.Background(), tg, "v2.0.0", steps(tg), deploy.Options{Out: &out, Confirm: given})
					oc.WriteSummary(&out, "")
					assert.Zero(t, c.n.Load(), "a refused run must not connect to the target")
					require.NotNil(t, oc.Refused)
					assert.Equal(t, exitcode.Refused, oc.Code)
					assert.Empty(t, oc.Steps, "no step may run")
					assert.Contains(t, out.String(), "CONFIRM="+env)
					assert.Contains(t, out.String(), "nothing was touched")
				})
			}
		}
	}
}
