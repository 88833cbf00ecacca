package rollbackprep

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// current reads the image of every service's deployment.
func (it *item) current(ctx context.Context) (map[string]string, error) {
	cs, ns, err := it.kube.Of(it.tgt, "")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, KubeTimeout)
	defer cancel()
	out := map[string]string{}
	var errs []error
	for _, s := range it.tgt.Services {
		imgs, err := kube.CurrentImages(ctx, cs, ns, s.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		img, ok := imgs[s.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("deployment %s/%s has no container %s (containers: %s)", ns, s.Name, s.Name, keys(imgs)))
			continue
		}
		out[s.Name] = img
	}
	return out, errors.Join(errs...)
}

func keys(m map[string]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// splitImage splits granter/backend-core:v1.9.0 into repository and tag.
func splitImage(img string) (repo, tag string) {
	if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
		return img[:i], img[i+1:]
	}
	return img, ""
}

func (it *item) previousVersion(ctx context.Context, r *flow.Recorder) error {
	if it.tgt.Version == "" {
		return fmt.Errorf("no VERSION given: run make preflight VERSION=v2.0.0 (or set %s)", target.VersionEnv)
	}
	imgs, err := it.current(ctx)
	if err != nil {
		return fmt.Errorf("the images running now cannot be read: %w", err)
	}
	ns := it.tgt.Kube.Namespace
	var problems, running []string
	tags := map[string][]string{}
	for _, s := range it.tgt.Services {
		img, ok := imgs[s.Name]
		if !ok {
			continue
		}
		repo, tag := splitImage(img)
		r.Logf("deployment %s/%s runs %s", ns, s.Name, img)
		running = append(running, s.Name+" "+img)
		switch {
		case repo != s.Image:
			problems = append(problems, fmt.Sprintf("deployment %s runs %s, not an image of %s (services[].image)", s.Name, img, s.Image))
		case tag == "" || tag == "latest":
			problems = append(problems, fmt.Sprintf("deployment %s runs %s: no version tag to roll back to", s.Name, img))
		default:
			tags[tag] = append(tags[tag], s.Name)
		}
	}
	if len(problems) == 0 {
		switch {
		case len(tags) > 1:
			var parts []string
			for tag, svcs := range tags {
				parts = append(parts, fmt.Sprintf("%s on %s", tag, strings.Join(svcs, ", ")))
			}
			sort.Strings(parts)
			problems = append(problems, fmt.Sprintf("the services run mixed versions (%s): there is no single previous version to roll back to; finish or undo the partial deployment first", strings.Join(parts, "; ")))
		case len(tags[it.tgt.Version]) > 0:
			problems = append(problems, fmt.Sprintf("the services already run %s, the version to deploy: the previous version is not running anywhere, so a rollback has nothing to return to (was the deployment already done?)", it.tgt.Version))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s (namespace %s: %s)", strings.Join(problems, "; "), ns, strings.Join(running, ", "))
	}
	var prev string
	for tag := range tags {
		prev = tag
	}
	checklist.Evidence(r, "%s, running now on all %d services (%s): a rollback returns to it", prev, len(running), strings.Join(running, ", "))
	return nil
}
