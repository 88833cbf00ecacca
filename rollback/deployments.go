package rollback

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/progress"
)

// scaleDown is Step 2: every deployment to 0, then wait until no pod is
// left (the services' database sessions end with them).
func (r *runner) scaleDown(ctx context.Context) ([]map[string]string, error) {
	ns := r.plan.Namespace
	var data []map[string]string
	for _, img := range r.plan.Images {
		if err := kube.Scale(ctx, r.cs, ns, img.Deployment, 0); err != nil {
			return data, err
		}
		data = append(data, map[string]string{journal.KeyDeployment: img.Deployment, journal.KeyReplicasBefore: strconv.Itoa(int(img.Replicas)), "replicas": "0"})
	}
	wctx, cancel := context.WithTimeout(ctx, r.tgt.Thresholds.RolloutTimeout)
	defer cancel()
	prog := progress.New(r.out, "rollback: waiting for the pods to end", int64(len(r.plan.Images)), progress.In(progress.Count("deployments without pods")))
	err := r.each(func(img Image) error {
		if err := kube.WaitNoPods(wctx, r.cs, ns, img.Deployment); err != nil {
			return err
		}
		prog.Add(1)
		prog.Note("%s: no pod left", img.Deployment)
		return nil
	})
	_ = prog.Done(map[bool]string{true: "done", false: "FAILED"}[err == nil])
	return data, err
}

// each runs fn for every deployment at once and joins the errors.
func (r *runner) each(fn func(Image) error) error {
	errs := make([]error, len(r.plan.Images))
	var wg sync.WaitGroup
	for i, img := range r.plan.Images {
		wg.Go(func() { errs[i] = fn(img) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// setImages is Step 4: the previous image on every deployment that
// changed, then the replicas back (Step 2 left them at 0).
func (r *runner) setImages(ctx context.Context) ([]map[string]string, error) {
	ns := r.plan.Namespace
	var data []map[string]string
	for _, img := range r.plan.Images {
		if img.Current != img.Previous {
			if err := kube.SetImage(ctx, r.cs, ns, img.Deployment, img.Container, img.Previous); err != nil {
				return data, err
			}
		}
		if err := kube.Scale(ctx, r.cs, ns, img.Deployment, img.Replicas); err != nil {
			return data, err
		}
		data = append(data, map[string]string{journal.KeyDeployment: img.Deployment, journal.KeyImageBefore: img.Current, journal.KeyImageAfter: img.Previous,
			"replicas": strconv.Itoa(int(img.Replicas))})
		fmt.Fprintf(r.out, "rollback: %s: image %s, %d replicas\n", img.Deployment, img.Previous, img.Replicas)
	}
	return data, nil
}

// rollout is Step 5: every rollout complete (kubectl rollout status
// --timeout=5m), then every service answering its health check at the
// previous version.
func (r *runner) rollout(ctx context.Context) ([]map[string]string, error) {
	ns := r.plan.Namespace
	wctx, cancel := context.WithTimeout(ctx, r.tgt.Thresholds.RolloutTimeout)
	defer cancel()
	prog := progress.New(r.out, "rollback: rollouts", int64(len(r.plan.Images)), progress.In(progress.Count("complete")))
	var mu sync.Mutex
	data := map[string]map[string]string{}
	err := r.each(func(img Image) error {
		err := kube.WaitRollout(wctx, r.cs, ns, img.Deployment, kube.WithProgress(func(rp kube.RolloutProgress) { prog.Note("%s", rp) }))
		if err != nil {
			return err
		}
		prog.Add(1)
		version, err := waitHealthy(wctx, r.tgt, img.Deployment, Tag(img.Previous))
		if err != nil {
			return err
		}
		mu.Lock()
		data[img.Deployment] = map[string]string{journal.KeyDeployment: img.Deployment, journal.KeyRollout: "complete", "health": "200", journal.KeyVersion: version}
		mu.Unlock()
		return nil
	})
	_ = prog.Done(map[bool]string{true: "complete, every service healthy at " + r.plan.To, false: "FAILED"}[err == nil])
	var out []map[string]string
	for _, img := range r.plan.Images {
		if d, ok := data[img.Deployment]; ok {
			out = append(out, d)
		}
	}
	return out, err
}
