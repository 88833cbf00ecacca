//go:build !staging && !prod

package deploy_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/granter/runbook/deploy"
	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/kubelab"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke"
	"github.com/granter/runbook/smoke/ia"
)

// One whole local platform for the package, at v1.9.0 (production before
// the deployment); every live test deploys v2.0.0 to it and reset() puts it
// back at v1.9.0.
var (
	env      *localenv.Env
	tgt      *target.Target
	migrator string // the reference migrator, built once
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	var err error
	if tgt, err = target.Load(); err != nil {
		fmt.Fprintln(os.Stderr, "runbook:", err)
		return 2
	}
	tgt.Version = granter.V2
	bin, err := os.MkdirTemp("", "deploy-test-migrator-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var berr error
	wg.Go(func() { migrator, berr = preflightlab.BuildMigrator(ctx, bin) })
	env, err = localenv.Start(ctx, tgt, localenv.WithVersion(granter.V1), localenv.WithProgress(os.Stderr))
	wg.Wait()
	if err = errors.Join(err, berr); err != nil {
		fmt.Fprintln(os.Stderr, "runbook: local platform:", err)
		if env != nil {
			_ = env.Close()
		}
		return 1
	}
	tgt.Migrations.Command = []string{migrator, "migrate", "run"}
	tgt.Migrations.StatusCommand = []string{migrator, "migrate", "status"}
	code := m.Run()
	if err := env.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "runbook: local platform close:", err)
		code = 1
	}
	return code
}

// result is one in-process deployment: its outcome, its output, its run
// folder and journal.
type result struct {
	oc     *deploy.Outcome
	out    string
	dir    string
	events []journal.Entry
}

type runOpts struct {
	version     string // default granter.V2
	preflight   []deploy.Step
	migratorEnv []string
	// before runs fn just before the first step with that ID (a fault
	// that must appear at that point of the sequence).
	before map[string]func(ctx context.Context) error
}

// passingPreflight stands for the checklist: make deploy runs the real one
// (go test ./preflight); this package proves what a failing gate does.
var passingPreflight = []deploy.Step{{
	Phase: "preflight", ID: "checklist", Title: "Pre-deployment checklist (stub: make deploy runs ./preflight)",
	Run: func(ctx context.Context, s *deploy.State, r *deploy.Record) error {
		r.Resultf("stub: every item complete")
		return nil
	},
}}

// deployV2 runs the whole plan v1.9.0 -> v2.0.0 (or o.version) in this
// process.
func deployV2(t *testing.T, o runOpts) result {
	t.Helper()
	dir := t.TempDir()
	tgt.Backup.Dir = filepath.Join(dir, "backups")
	j, err := journal.Open(dir, deploy.RunName(dir), tgt.Env, tgt.Redact)
	require.NoError(t, err)
	if o.preflight == nil {
		o.preflight = passingPreflight
	}
	version := cmp.Or(o.version, granter.V2)
	if version != tgt.Version {
		// The checks expect the version being deployed (RUNBOOK_VERSION in
		// make deploy's gates).
		was := tgt.Version
		tgt.Version = version
		t.Cleanup(func() { tgt.Version = was })
	}
	steps := deploy.Plan(tgt, version, deploy.Gates{Preflight: o.preflight,
		Phase4: deploy.InProcessPhase4(tgt, smoke.Options{AIProviderOutage: aiOutage})})
	for i := range steps {
		if fn, ok := o.before[steps[i].ID]; ok {
			delete(o.before, steps[i].ID)
			inner := steps[i].Run
			steps[i].Run = func(ctx context.Context, s *deploy.State, r *deploy.Record) error {
				if err := fn(ctx); err != nil {
					return fmt.Errorf("test set-up before this step: %w", err)
				}
				return inner(ctx, s, r)
			}
		}
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	oc := deploy.Run(ctx, tgt, version, steps, deploy.Options{Out: &out, Journal: j, RunDir: dir, MigratorEnv: o.migratorEnv})
	oc.WriteSummary(&out, dir)
	require.NoError(t, j.Close())
	t.Log("\n" + out.String())
	events, err := journal.Read(dir)
	require.NoError(t, err)
	return result{oc: oc, out: out.String(), dir: dir, events: events}
}

// aiOutage lets the IA flow check the fallback with the provider failing.
func aiOutage(ctx context.Context, f ia.Failure) (func(context.Context) error, error) {
	return suite.AIProviderOutageOn(env.Platform)(ctx, f)
}

// reset puts the platform back at v1.9.0: no fault, every deployment at
// v1.9.0 with 2 replicas and its usual progress deadline, the services
// answering v1.9.0, the database as it was (the 2026 migrations pending).
func reset(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs, ns := env.Cluster.Clientset, env.Namespace
	for _, d := range kubelab.Deployments {
		require.NoError(t, kubelab.SetFault(ctx, cs, ns, d, kubelab.FaultNone))
		require.NoError(t, setProgressDeadline(ctx, d, 600))
		require.NoError(t, kube.SetImage(ctx, cs, ns, d, d, "granter/"+d+":"+granter.V1))
		require.NoError(t, kube.Scale(ctx, cs, ns, d, 2))
	}
	for _, d := range kubelab.Deployments {
		require.NoError(t, kube.WaitRollout(ctx, cs, ns, d))
		waitVersion(t, ctx, d, granter.V1)
	}
	require.NoError(t, env.Platform.Reset(ctx))
	require.NoError(t, env.BridgeErr())
}

func setProgressDeadline(ctx context.Context, name string, seconds int32) error {
	dc := env.Cluster.Clientset.AppsV1().Deployments(env.Namespace)
	// The controller writes the deployment's status concurrently: retry a
	// conflicting update on a fresh copy.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := dc.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds == seconds {
			return nil
		}
		d.Spec.ProgressDeadlineSeconds = ptr.To(seconds)
		_, err = dc.Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
}

// waitVersion waits until the service's health check answers healthy at
// version (the bridge restarts a service shortly after its rollout
// completes).
func waitVersion(t *testing.T, ctx context.Context, service, version string) {
	t.Helper()
	c, err := httpcheck.ForService(tgt, service)
	require.NoError(t, err)
	svc, _ := tgt.Service(service)
	_, h, err := c.WaitHealthy(ctx, svc.Health, version, time.Minute, nil)
	require.NoError(t, err)
	require.Equal(t, version, h.Version, "%s: the health answer must say its version", service)
}

// stepIDs are the journal's steps, in order, as they ended ("started"
// entries, journaled before a changing step acts, are left out).
func stepIDs(es []journal.Entry) []string {
	var out []string
	for _, e := range es {
		if e.Status == journal.StatusStarted {
			continue
		}
		out = append(out, string(e.Phase)+"/"+e.Step+"/"+e.Status)
	}
	return out
}

func images(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range kubelab.Deployments {
		im, err := kube.CurrentImages(context.Background(), env.Cluster.Clientset, env.Namespace, d)
		require.NoError(t, err)
		out[d] = im[d]
	}
	return out
}

func contains(s string, subs ...string) error {
	var missing []string
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			missing = append(missing, fmt.Sprintf("%q", sub))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}
