package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/progress"
	"github.com/granter/runbook/internal/target"
)

// Deadlines of Phase 3 (the rollout's is thresholds.rolloutTimeout, the
// runbook's --timeout=5m).
const (
	// SetImageTimeout bounds kubectl set image (and the replica restore).
	SetImageTimeout = time.Minute
	// HealthTimeout bounds the health check after a rollout: the new
	// version has to answer healthy within it (the runbook: "pods should
	// be ready in 30-60s").
	HealthTimeout = 90 * time.Second
)

// stepIDs are the runbook's numbers for the three services' set image,
// rollout wait and health check, in deployment order.
var stepIDs = [][3]string{{"3.1", "3.2", "3.3"}, {"3.4", "3.4", "3.4"}, {"3.5", "3.5", "3.5"}}

// Phase3 is "Phase 3: Deploy Services (14:25-14:40)": for each service in
// the target's order (backend-core, data-service, web-frontend), set the
// image to version, wait for the rollout, check its health. only, when
// given, keeps those services.
func Phase3(tgt *target.Target, version string, only ...string) []Step {
	var steps []Step
	for i, svc := range tgt.Services {
		if len(only) > 0 && !slices.Contains(only, svc.Name) {
			continue
		}
		ids := stepIDs[min(i, len(stepIDs)-1)]
		steps = append(steps, setImageStep(tgt, svc, version, ids[0]), rolloutStep(tgt, svc, ids[1]), healthStep(tgt, svc, version, ids[2]))
	}
	return steps
}

// Image is the image of svc at version: granter/backend-core:v2.0.0.
func Image(svc target.Service, version string) string { return svc.Image + ":" + version }

func setImageStep(tgt *target.Target, svc target.Service, version, id string) Step {
	k := kube.Describe(tgt)
	manual := fmt.Sprintf("%s set image deployment/%s %s=%s", k, svc.Name, svc.Name, Image(svc, version))
	would := fmt.Sprintf("record the image of deployment %s and set container %s to %s (a new rollout)", svc.Name, svc.Name, Image(svc, version))
	if slices.Contains(Drained, svc.Name) {
		manual += fmt.Sprintf(" && %s scale deployment/%s --replicas=<count before Step 1.3>", k, svc.Name)
		would += "; then scale it back to the replica count recorded before Step 1.3 (the runbook never does)"
	}
	return Step{
		Phase: journal.Phase3, ID: id, Title: "Deploy " + svc.Name + ": set image", Manual: manual, Would: would,
		Changes: ChangesImages, Class: exitcode.Deploy, Timeout: SetImageTimeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			cs, err := s.Kube()
			if err != nil {
				return err
			}
			ns := s.Namespace()
			images, err := kube.CurrentImages(ctx, cs, ns, svc.Name)
			if err != nil {
				return err
			}
			want := Image(svc, s.Version)
			r.Set(journal.KeyDeployment, svc.Name)
			r.Set(journal.KeyImageBefore, images[svc.Name])
			if i := strings.LastIndex(images[svc.Name], ":"); i > strings.LastIndex(images[svc.Name], "/") {
				r.Set(journal.KeyPrevious, images[svc.Name][i+1:])
			}
			result := fmt.Sprintf("deployment %s: %s -> %s", svc.Name, orDefault(images[svc.Name], "(none)"), want)
			if images[svc.Name] == want {
				result += " (already that image: no new rollout)"
			}
			restore := int32(0)
			if slices.Contains(Drained, svc.Name) {
				n, ok := s.ReplicasBefore[svc.Name]
				sc, err := cs.AppsV1().Deployments(ns).GetScale(ctx, svc.Name, metav1.GetOptions{})
				if err != nil {
					return fmt.Errorf("reading the replicas of %s/%s: %w", ns, svc.Name, err)
				}
				switch {
				case sc.Spec.Replicas > 0:
					r.Logf("%s has %d replicas: nothing to restore", svc.Name, sc.Spec.Replicas)
				case !ok || n == 0:
					return fmt.Errorf("deployment %s/%s has 0 replicas and no Step 1.3 of this run recorded its count: scale it by hand (%s scale deployment/%s --replicas=N) and run the rollout again",
						ns, svc.Name, k, svc.Name)
				default:
					restore = n
					r.Logf("runbook gap: Step 1.3 scaled %s to 0 and Phase 3 never scales it back; restoring the %d replicas recorded before the drain, with the new image (one update: one rollout)", svc.Name, n)
				}
			}
			if err := r.Acting(fmt.Sprintf("set image %s=%s (was %s)", svc.Name, want, orDefault(images[svc.Name], "(none)"))); err != nil {
				return err
			}
			if restore > 0 {
				err = setImageAndScale(ctx, cs, ns, svc.Name, svc.Name, want, restore)
			} else {
				err = kube.SetImage(ctx, cs, ns, svc.Name, svc.Name, want)
			}
			if err != nil {
				return err
			}
			r.Set(journal.KeyImageAfter, want)
			if restore > 0 {
				r.Set("replicas", fmt.Sprint(restore))
				result += fmt.Sprintf("; replicas 0 -> %d (restored)", restore)
			}
			r.Resultf("%s", result)
			return nil
		},
	}
}

func rolloutStep(tgt *target.Target, svc target.Service, id string) Step {
	timeout := tgt.Thresholds.RolloutTimeout
	return Step{
		Phase: journal.Phase3, ID: id, Title: "Wait for the rollout of " + svc.Name,
		Manual: fmt.Sprintf("%s rollout status deployment/%s --timeout=%s", kube.Describe(tgt), svc.Name, timeout),
		Would:  fmt.Sprintf("follow deployment %s until every replica is updated and available and no old one is left, at most %s (a ProgressDeadlineExceeded condition fails at once)", svc.Name, timeout),
		Class:  exitcode.Deploy, Timeout: timeout + 5*time.Second,
		Run: func(ctx context.Context, s *State, r *Record) error {
			cs, err := s.Kube()
			if err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, s.Target.Thresholds.RolloutTimeout)
			defer cancel()
			start := time.Now()
			want := int64(0)
			if sc, err := cs.AppsV1().Deployments(s.Namespace()).GetScale(ctx, svc.Name, metav1.GetOptions{}); err == nil {
				want = int64(sc.Spec.Replicas)
			}
			// One line when the state changes, and one every few seconds
			// while it does not: "rollout backend-core… 1 of 2 replicas
			// updated (50%), 12s — 1 of 2 updated replicas available".
			prog := progress.New(r.Writer(), "rollout "+svc.Name, want, progress.In(progress.Count("replicas updated")))
			var last kube.RolloutProgress
			err = kube.WaitRollout(wctx, cs, s.Namespace(), svc.Name, kube.WithProgress(func(p kube.RolloutProgress) {
				last = p
				prog.Note("%s", p.Message)
				prog.Update(int64(p.Status.UpdatedReplicas))
			}))
			if err != nil {
				_ = prog.Done("failed")
			} else {
				_ = prog.Done("rolled out")
			}
			r.Set(journal.KeyDeployment, svc.Name)
			if err != nil {
				var re *kube.RolloutError
				if errors.As(err, &re) {
					r.Set(journal.KeyRollout, strings.ToLower(re.Reason))
				}
				return err
			}
			st := last.Status
			r.Set(journal.KeyRollout, "complete")
			r.Set("ready", fmt.Sprintf("%d/%d", st.ReadyReplicas, st.Replicas))
			r.Resultf("deployment %s rolled out: %d of %d replicas ready in %s", svc.Name, st.ReadyReplicas, st.Replicas, short(time.Since(start)))
			return nil
		},
	}
}

// setImageAndScale is `kubectl set image` and `kubectl scale` in one
// update of the Deployment, so the controller sees one rollout (a scale
// after a set image would be a scaling event, whose progress deadline it
// does not track).
func setImageAndScale(ctx context.Context, cs kubernetes.Interface, ns, name, container, image string, replicas int32) error {
	dc := cs.AppsV1().Deployments(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := dc.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		found := false
		for i := range d.Spec.Template.Spec.Containers {
			if d.Spec.Template.Spec.Containers[i].Name == container {
				d.Spec.Template.Spec.Containers[i].Image = image
				found = true
			}
		}
		if !found {
			return fmt.Errorf("deployment %s/%s has no container %q", ns, name, container)
		}
		d.Spec.Replicas = &replicas
		_, err = dc.Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("set image deployment %s/%s %s=%s and scale to %d: %w", ns, name, container, image, replicas, err)
	}
	return nil
}

func healthStep(tgt *target.Target, svc target.Service, version, id string) Step {
	return Step{
		Phase: journal.Phase3, ID: id, Title: "Verify " + svc.Name + " health",
		Manual: fmt.Sprintf(`curl -fsS %s%s   (expect {"status":"healthy","services":{"database":"up","api":"up"}})`, svc.URL, svc.Health),
		Would:  fmt.Sprintf("GET %s%s until it answers 200 healthy at %s, at most %s", svc.URL, svc.Health, version, HealthTimeout),
		Class:  exitcode.Deploy, Timeout: HealthTimeout + 10*time.Second,
		Run: func(ctx context.Context, s *State, r *Record) error {
			cl, err := httpcheck.ForService(s.Target, svc.Name)
			if err != nil {
				return err
			}
			start := time.Now()
			resp, _, err := cl.WaitHealthy(ctx, svc.Health, s.Version, HealthTimeout, func(attempt int, seen string) {
				if attempt == 1 || attempt%10 == 0 {
					r.Logf("not healthy yet (%s): %s", short(time.Since(start)), seen)
				}
			})
			if err != nil {
				return err
			}
			r.Set("url", resp.URL)
			r.Set("status", fmt.Sprint(resp.Status))
			r.Set("body", resp.Excerpt())
			r.Resultf("%s -> %d %s after %s", resp.URL, resp.Status, resp.Excerpt(), short(time.Since(start)))
			return nil
		},
	}
}
