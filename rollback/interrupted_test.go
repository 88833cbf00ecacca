//go:build !staging && !prod

package rollback_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
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

// A run killed after a step journaled "started" (before it acted) and
// before it journaled its end is planned as if the step happened: the
// database is restored after a started migration, the image set back
// after a started set image, and the plan says why.
func TestPlanAfterAKilledStep(t *testing.T) {
	reset(t)
	b := dump(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, ns := env.Cluster.Clientset, env.Namespace
	image := func(name, version string) string { return "granter/" + name + ":" + version }

	// killed journals what deploy.Run leaves when killed right after the
	// last of entries.
	killed := func(t *testing.T, entries ...journal.Entry) string {
		dir := filepath.Join(t.TempDir(), time.Now().UTC().Format("20060102-150405")+"-"+tgt.Env)
		j, err := journal.Open(dir, filepath.Base(dir), tgt.Env, tgt.Redact)
		require.NoError(t, err)
		defer j.Close()
		all := append([]journal.Entry{{Phase: journal.Phase1, Step: "1.1", Action: "Final Database Backup", Status: journal.StatusOK,
			Data: map[string]string{journal.KeyBackupFile: b.Path, journal.KeyBackupSHA256: b.SHA256, journal.KeyBackupVerified: "true"}}}, entries...)
		for _, e := range all {
			e.Data[journal.KeyVersion] = granter.V2
			require.NoError(t, j.Add(e))
		}
		return dir
	}
	planText := func(t *testing.T, dir string) (*rollback.Plan, string) {
		p, err := rollback.PlanFor(ctx, tgt, dir)
		require.NoError(t, err)
		var w bytes.Buffer
		p.Write(&w)
		t.Log("\n" + w.String())
		return p, w.String()
	}

	t.Run("killed_during_the_migrations", func(t *testing.T) {
		dir := killed(t, journal.Entry{Phase: journal.Phase2, Step: "2.1", Action: "Run Pending Migrations: started: run migrator", Status: journal.StatusStarted,
			Data: map[string]string{journal.KeyChanges: journal.ChangesDatabase}})
		_, text := planText(t, dir)
		assert.Contains(t, text, "Step 2.1 (Run Pending Migrations: started: run migrator) started at")
		assert.Contains(t, text, "the migrations may be applied in part, so the plan restores the database")
		assert.NotContains(t, text, "records no migration", "a started migration must not be planned as never run")
		assert.Contains(t, text, "Step 3: Rollback Database")
	})

	t.Run("killed_during_set_image", func(t *testing.T) {
		// The set image call reached the cluster; its end was never
		// journaled.
		require.NoError(t, kube.SetImage(ctx, cs, ns, target.BackendCore, target.BackendCore, image(target.BackendCore, granter.V2)))
		t.Cleanup(func() { reset(t) })
		dir := killed(t,
			journal.Entry{Phase: journal.Phase2, Step: "2.1", Action: "Run Pending Migrations", Status: journal.StatusOK, Data: map[string]string{}},
			journal.Entry{Phase: journal.Phase3, Step: "3.1", Action: "Deploy backend-core: set image: started: set image", Status: journal.StatusStarted,
				Data: map[string]string{journal.KeyChanges: journal.ChangesImages, journal.KeyDeployment: target.BackendCore,
					journal.KeyImageBefore: image(target.BackendCore, granter.V1), journal.KeyPrevious: granter.V1}})
		p, text := planText(t, dir)
		var changed []string
		for _, img := range p.Changed() {
			changed = append(changed, img.Deployment+" "+img.Current+" -> "+img.Previous)
		}
		assert.Equal(t, []string{target.BackendCore + " " + image(target.BackendCore, granter.V2) + " -> " + image(target.BackendCore, granter.V1)}, changed,
			"the plan sets back the image the killed step changed")
		assert.Contains(t, text, "Step 3.1 (Deploy backend-core: set image: started: set image) started at")
		assert.Contains(t, text, "the image of backend-core may have changed, and it has: it runs "+image(target.BackendCore, granter.V2))
		assert.True(t, strings.Contains(text, kube.Describe(tgt)+" set image deployment/backend-core backend-core="+image(target.BackendCore, granter.V1)), "the plan's manual command sets the image back")
	})
}
