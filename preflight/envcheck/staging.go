package envcheck

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
)

func (it *item) version() (string, error) {
	if it.tgt.Version == "" {
		return "", fmt.Errorf("no VERSION given: run make preflight VERSION=v2.0.0 (or set %s)", target.VersionEnv)
	}
	return it.tgt.Version, nil
}

func (it *item) stagingDeployment(ctx context.Context, r *flow.Recorder) error {
	v, err := it.version()
	if err != nil {
		return err
	}
	st := it.tgt.Staging
	var images map[string]string // deployment -> image
	var problems []string
	var source string
	switch {
	case st.KubeContext != "":
		source = fmt.Sprintf("kube context %s, namespace %s", st.KubeContext, st.Namespace)
		cs, err := it.c.kube(it.tgt.Kube, st.KubeContext)
		if err != nil {
			return fmt.Errorf("staging (%s): %w", source, err)
		}
		ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
		defer cancel()
		images = map[string]string{}
		for _, s := range it.tgt.Services {
			d, err := cs.AppsV1().Deployments(st.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil {
				problems = append(problems, fmt.Sprintf("deployment %s: %v", s.Name, err))
				continue
			}
			images[s.Name] = containerImage(d, s.Name)
			if p := rolledOut(d); p != "" {
				problems = append(problems, fmt.Sprintf("deployment %s/%s has not rolled out: %s", st.Namespace, s.Name, p))
			}
		}
	case st.DeployRecord != "":
		source = "record " + st.DeployRecord
		var rec checklist.DeployRecord
		if err := checklist.ReadJSON(st.DeployRecord, &rec); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no record of a staging deployment (%s): deploy %s to staging first", st.DeployRecord, v)
			}
			return err
		}
		if rec.Env != "staging" {
			problems = append(problems, fmt.Sprintf("the record is of a deployment to %q, not staging", rec.Env))
		}
		if rec.Status != "succeeded" {
			problems = append(problems, fmt.Sprintf("the last staging deployment (%s, at %s) has status %q, not succeeded", rec.Version, rec.At.Format("2006-01-02 15:04 MST"), rec.Status))
		}
		images = rec.Images
	default:
		return fmt.Errorf("nowhere to read what staging runs: set staging.kubeContext or staging.deployRecord in %s", it.tgt.File)
	}
	for _, s := range it.tgt.Services {
		want := s.Image + ":" + v
		got, ok := images[s.Name]
		switch {
		case !ok:
			if st.KubeContext == "" {
				problems = append(problems, fmt.Sprintf("%s is not in the record", s.Name))
			}
		case got != want:
			problems = append(problems, fmt.Sprintf("staging %s runs %s, not %s", s.Name, got, want))
		default:
			r.Logf("staging %s runs %s", s.Name, got)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s (%s)", strings.Join(problems, "; "), source)
	}
	checklist.Evidence(r, "staging runs %s on all %d services (%s)", v, len(it.tgt.Services), source)
	return nil
}

// containerImage is the image of the container named like the
// deployment (else the first one).
func containerImage(d *appsv1.Deployment, name string) string {
	cs := d.Spec.Template.Spec.Containers
	for _, c := range cs {
		if c.Name == name {
			return c.Image
		}
	}
	if len(cs) > 0 {
		return cs[0].Image
	}
	return ""
}

// rolledOut says what is missing for the deployment's rollout to be
// complete, as `kubectl rollout status` judges it; "" when complete.
func rolledOut(d *appsv1.Deployment) string {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.ObservedGeneration < d.Generation:
		return fmt.Sprintf("generation %d not yet observed (%d)", d.Generation, s.ObservedGeneration)
	case s.UpdatedReplicas < want:
		return fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, want)
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas still running", s.Replicas-s.UpdatedReplicas)
	case s.AvailableReplicas < s.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas available", s.AvailableReplicas, s.UpdatedReplicas)
	}
	return ""
}

func (it *item) stagingSmoke(ctx context.Context, r *flow.Recorder) error {
	v, err := it.version()
	if err != nil {
		return err
	}
	if it.tgt.Staging.SmokeRecord == "" {
		return fmt.Errorf("nowhere to read the staging smoke run: set staging.smokeRecord in %s", it.tgt.File)
	}
	path := it.tgt.Staging.SmokeRecordFor(v)
	var rec checklist.SmokeRecord
	if err := checklist.ReadJSON(path, &rec); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no record of a staging smoke run of %s (%s not found): run `go test -count=1 -json -tags=staging ./smoke | runbook checklist record-smoke -env staging -version %s -o %s`",
				v, path, v, path)
		}
		return err
	}
	flows := make([]string, 0, len(rec.Flows))
	for f, s := range rec.Flows {
		flows = append(flows, f+" "+s)
	}
	sort.Strings(flows)
	r.Logf("%s: %s on %s at %s: %s", path, rec.Version, rec.Env, rec.At.Format("2006-01-02 15:04 MST"), strings.Join(flows, ", "))
	if err := rec.Check("staging", v); err != nil {
		return fmt.Errorf("the staging smoke run recorded in %s does not pass: %w", path, err)
	}
	na := ""
	for _, step := range slices.Sorted(maps.Keys(rec.NotApplicable)) {
		r.Logf("%s: %s", step, rec.NotApplicable[step])
		na += "; " + step + " " + rec.NotApplicable[step]
	}
	checklist.Evidence(r, "the five flows passed on staging for %s at %s (%s)%s", v, rec.At.Format("2006-01-02 15:04 MST"), path, na)
	return nil
}
