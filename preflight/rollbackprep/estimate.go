package rollbackprep

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/pgbackup"
)

// Part is one part of the estimated rollback time.
type Part struct {
	Name string
	Time time.Duration
	From string // where the number comes from
}

func (p Part) String() string {
	return fmt.Sprintf("%s %s (%s)", p.Name, p.Time.Round(100*time.Millisecond), p.From)
}

func (it *item) estimate(ctx context.Context, r *flow.Recorder) error {
	budget := it.tgt.Thresholds.RollbackBudget
	if budget <= 0 {
		return fmt.Errorf("thresholds.rollbackBudget is not set in %s: the runbook's is 15m", it.tgt.File)
	}
	// The drill's step times, where it has them; the estimate does not need
	// the drill ("Rollback tested" is checked on its own).
	drill, _, derr := it.drill()
	if derr != nil {
		r.Logf("no drill step times (%v): the estimate uses the cluster's and its defaults", derr)
		drill = checklist.RollbackRecord{}
	}
	steps := drill.Steps

	var parts []Part
	var problems []string

	drain := Part{Name: "scale-down", Time: it.tgt.Thresholds.DrainGrace, From: "thresholds.drainGrace, graceful shutdown"}
	if d := steps["scale-down"]; d > drain.Time {
		drain = Part{Name: "scale-down", Time: d, From: "staging drill"}
	}
	parts = append(parts, drain)

	if restore, err := it.restorePart(r); err != nil {
		problems = append(problems, err.Error())
	} else {
		parts = append(parts, restore)
	}

	rollout, err := it.rolloutPart(ctx, r)
	switch {
	case err == nil:
	case steps["rollout"] > 0:
		r.Logf("the cluster's rollout times are unknown (%v): the staging drill's is used", err)
		rollout = Part{Name: "rollout", Time: steps["rollout"], From: "staging drill"}
	default:
		problems = append(problems, fmt.Sprintf("no rollout time: %v, and no drill step time", err))
	}
	if err == nil && steps["rollout"] > rollout.Time {
		rollout = Part{Name: "rollout", Time: steps["rollout"], From: "staging drill, longer than " + rollout.From}
	}
	if rollout.Name != "" {
		parts = append(parts, rollout)
	}

	if d := steps["smoke"]; d > 0 {
		parts = append(parts, Part{Name: "smoke tests", Time: d, From: "staging drill"})
	} else {
		parts = append(parts, Part{Name: "smoke tests", Time: defaultSmokeGuess, From: "assumed: no drill time"})
	}
	// The record sums both messages (Steps 1 and 7) under "notify".
	msgs := steps["notify"]
	if set := steps["set-image"]; set > 0 {
		parts = append(parts, Part{Name: "set image", Time: set, From: "staging drill"})
	}
	if msgs == 0 {
		msgs = 2 * it.tgt.HTTP.Timeout
		parts = append(parts, Part{Name: "2 messages", Time: msgs, From: "at most http.timeout each"})
	} else {
		parts = append(parts, Part{Name: "2 messages", Time: msgs, From: "staging drill"})
	}
	if len(problems) > 0 {
		return fmt.Errorf("the rollback time cannot be estimated: %s", strings.Join(problems, "; "))
	}
	var total time.Duration
	var shown []string
	for _, p := range parts {
		total += p.Time
		shown = append(shown, p.String())
		r.Logf("part: %s", p)
	}
	line := fmt.Sprintf("%s = %s", strings.Join(shown, " + "), total.Round(time.Second))
	if drill.Duration > 0 {
		line += fmt.Sprintf("; the staging drill took %s", drill.Duration.Round(time.Second))
	}
	if drill.Duration > total {
		// A real drill that took longer than the sum of its parts is the
		// better estimate.
		total = drill.Duration
	}
	if total > budget {
		return fmt.Errorf("estimated rollback time %s is over the runbook's %s (thresholds.rollbackBudget): %s; shorten the slow part (a smaller or faster restore, faster rollouts) or agree a longer window",
			total.Round(time.Second), budget, line)
	}
	checklist.Evidence(r, "%s, within %s: %s", total.Round(time.Second), budget, line)
	return nil
}

// restorePart estimates Step 3 from the newest verified backup: its size at
// the rate measured when it was verified (pg_restore plus the table
// comparison the rollback also does).
func (it *item) restorePart(r *flow.Recorder) (Part, error) {
	if it.tgt.Database == nil {
		return Part{}, fmt.Errorf("no database section in %s: the restore cannot be estimated", it.tgt.File)
	}
	b, err := pgbackup.LatestVerified(it.tgt.Backup.Dir, it.tgt.Database.Name)
	if err != nil {
		return Part{}, fmt.Errorf("no measured restore rate: %v (checklist item 1 takes and verifies one)", err)
	}
	v := b.Verified
	took := v.Restore + v.Compare
	if took <= 0 || b.Size <= 0 {
		return Part{}, fmt.Errorf("backup %s records no restore time or size", b.Path)
	}
	rate := float64(b.Size) / took.Seconds() // bytes per second
	est := time.Duration(float64(b.Size) / rate * float64(time.Second))
	r.Logf("restore: %s, %s, verified %s: restore %s + compare %s: %s/s", filepath.Base(b.Path), bytes(b.Size),
		v.At.Format(time.RFC3339), v.Restore, v.Compare, bytes(int64(rate)))
	return Part{Name: "database restore", Time: est,
		From: fmt.Sprintf("%s at %s/s measured verifying %s", bytes(b.Size), bytes(int64(rate)), filepath.Base(b.Path))}, nil
}

// rolloutPart is the longest of the deployments' last rollouts: the newest
// ReplicaSet's creation to the Progressing condition's
// NewReplicaSetAvailable. The rollouts of Step 4 run side by side.
func (it *item) rolloutPart(ctx context.Context, r *flow.Recorder) (Part, error) {
	cs, ns, err := it.kube.Of(it.tgt, "")
	if err != nil {
		return Part{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	var longest Part
	for _, s := range it.tgt.Services {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, s.Name, metav1.GetOptions{})
		if err != nil {
			return Part{}, err
		}
		took, err := lastRollout(ctx, cs, d)
		if err != nil {
			return Part{}, err
		}
		r.Logf("deployment %s/%s: last rollout took %s", ns, s.Name, took)
		if took >= longest.Time {
			longest = Part{Name: "rollout", Time: took, From: "longest last rollout in the cluster: " + s.Name}
		}
	}
	return longest, nil
}

// bytes prints a size the way a person reads it: 33.0 kB, 12.3 MB, 4.1 GB.
func bytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
}

func lastRollout(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) (time.Duration, error) {
	var done *appsv1.DeploymentCondition
	for i, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "NewReplicaSetAvailable" {
			done = &d.Status.Conditions[i]
		}
	}
	if done == nil {
		return 0, fmt.Errorf("deployment %s/%s has no completed rollout (no Progressing condition NewReplicaSetAvailable)", d.Namespace, d.Name)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return 0, err
	}
	rss, err := cs.AppsV1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return 0, err
	}
	rev := d.Annotations[kube.RevisionAnnotation]
	for _, rs := range rss.Items {
		if rs.Annotations[kube.RevisionAnnotation] == rev && metav1.IsControlledBy(&rs, d) {
			took := done.LastUpdateTime.Sub(rs.CreationTimestamp.Time)
			if took < 0 {
				took = 0
			}
			return took, nil
		}
	}
	return 0, fmt.Errorf("deployment %s/%s: no ReplicaSet of its revision %s", d.Namespace, d.Name, rev)
}
