//go:build !staging && !prod

package rollback_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback"
)

// TestPreviousImagesOfARelease: deploying a release again into a new run
// folder after a partial attempt records the release itself as the image
// "before"; the rollback of that run restores the images the first
// deployment of the release found, and refuses when no journal knows them.
func TestPreviousImagesOfARelease(t *testing.T) {
	reset(t)
	b := dump(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, ns := env.Cluster.Clientset, env.Namespace
	image := func(name, version string) string { return "granter/" + name + ":" + version }
	services := []string{target.BackendCore, target.DataService, target.WebFrontend}
	t0 := time.Now().UTC().Add(-2 * time.Hour)

	// run journals a deployment of v2.0.0 whose Phase 3 found each named
	// deployment on its image before.
	run := func(root, name string, at time.Time, before map[string]string) string {
		dir := filepath.Join(root, name)
		j, err := journal.Open(dir, name, tgt.Env, tgt.Redact)
		require.NoError(t, err)
		defer j.Close()
		add := func(e journal.Entry) {
			e.Time = at
			at = at.Add(time.Minute)
			e.Data[journal.KeyVersion] = granter.V2
			require.NoError(t, j.Add(e))
		}
		add(journal.Entry{Phase: journal.Phase1, Step: "1.1", Action: "Final Database Backup", Status: journal.StatusOK,
			Data: map[string]string{journal.KeyBackupFile: b.Path, journal.KeyBackupSHA256: b.SHA256, journal.KeyBackupVerified: "true"}})
		for _, svc := range services {
			if v, ok := before[svc]; ok {
				add(journal.Entry{Phase: journal.Phase3, Step: "3.x", Action: "Deploy " + svc + ": set image", Status: journal.StatusOK,
					Data: map[string]string{journal.KeyDeployment: svc, journal.KeyImageBefore: image(svc, v), journal.KeyPrevious: v, journal.KeyImageAfter: image(svc, granter.V2)}})
			}
		}
		return dir
	}
	// The first attempt set backend-core and data-service to v2.0.0 and
	// stopped; the second found them there and set web-frontend too.
	for _, svc := range services {
		require.NoError(t, kube.SetImage(ctx, cs, ns, svc, svc, image(svc, granter.V2)))
	}

	t.Run("the first deployment's images", func(t *testing.T) {
		root := t.TempDir()
		first := run(root, "20260303-140000-"+tgt.Env, t0, map[string]string{target.BackendCore: granter.V1, target.DataService: granter.V1})
		second := run(root, "20260303-150000-"+tgt.Env, t0.Add(time.Hour), map[string]string{target.BackendCore: granter.V2, target.DataService: granter.V2, target.WebFrontend: granter.V1})

		p, err := rollback.PlanFor(ctx, tgt, second)
		require.NoError(t, err)
		require.Len(t, p.Images, len(services))
		for _, img := range p.Images {
			assert.Equal(t, image(img.Deployment, granter.V1), img.Previous, "%s: the image to restore (from %s)", img.Deployment, img.PreviousFrom)
			if img.Deployment != target.WebFrontend {
				assert.Contains(t, img.PreviousFrom, first, "%s: read from the first deployment", img.Deployment)
			}
		}
		assert.Equal(t, granter.V1, p.To)
	})

	t.Run("no journal knows the images before the release: refused", func(t *testing.T) {
		root := t.TempDir()
		second := run(root, "20260303-150000-"+tgt.Env, t0.Add(time.Hour), map[string]string{target.BackendCore: granter.V2, target.DataService: granter.V2})

		_, err := rollback.PlanFor(ctx, tgt, second)
		requireRefused(t, err, "backend-core (runs "+image(target.BackendCore, granter.V2)+")", "data-service", "web-frontend",
			"no journal records what", second)
	})
}
