package runfolder

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/granter/runbook/internal/journal"
)

// Image is a deployment's image before the release, and where it was
// found (the run folder, the step and the key).
type Image struct {
	Image string
	From  string
}

// Before is what the journals tell of the images before a release.
type Before struct {
	// Images maps a deployment to its image before the release.
	Images map[string]Image
	// Version is the version before the release (journal.KeyPrevious, else
	// the tag of an image found), "" when unknown; VersionFrom where it
	// was read.
	Version, VersionFrom string
	// Looked lists the run folders read, the run's own first.
	Looked []string
}

// Previous is, per deployment, the image it ran before release was first
// deployed to env. The run's own entries (dir, entries: its journal
// without the rollback's entries) come first; an image.before or a
// previous version equal to release is never taken (the run deployed the
// release again after a partial attempt, and recorded the release itself
// as "before"). For the deployments the run cannot tell, the earlier
// deployment runs of release to env in the same runs folder are read,
// oldest first: the first deployment of the release recorded what ran
// before it.
func Previous(dir, env, release string, entries []journal.Entry) (Before, error) {
	b := Before{Images: map[string]Image{}}
	b.read(dir, release, entries)
	if release == "" {
		return b, nil
	}
	runs, _, err := List(filepath.Dir(dir), env)
	if err != nil {
		return b, err
	}
	own := Deployment{Dir: dir}
	if d, ok := Of(dir, entries); ok {
		own = d
	} else {
		for _, e := range entries {
			if t := entryTime(e); !t.IsZero() {
				own.Started = t
				break
			}
		}
	}
	for _, d := range runs {
		if filepath.Clean(d.Dir) == filepath.Clean(dir) || d.Version != release {
			continue
		}
		if !own.Started.IsZero() && !d.Started.Before(own.Started) {
			continue
		}
		b.read(d.Dir, release, withoutRollback(d.Entries))
	}
	return b, nil
}

// read adds what one run's entries tell and the caller does not know yet:
// per deployment the earliest image.before not of release, and the newest
// previous version not equal to release.
func (b *Before) read(dir, release string, entries []journal.Entry) {
	b.Looked = append(b.Looked, dir)
	for _, e := range entries {
		d, img := e.Data[journal.KeyDeployment], e.Data[journal.KeyImageBefore]
		if d == "" || img == "" || Tag(img) == release {
			continue
		}
		if _, seen := b.Images[d]; !seen {
			b.Images[d] = Image{Image: img, From: fmt.Sprintf("%s Step %s %s", dir, e.Step, journal.KeyImageBefore)}
		}
	}
	if b.Version != "" {
		return
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if v := entries[i].Data[journal.KeyPrevious]; v != "" && v != release {
			b.Version, b.VersionFrom = v, fmt.Sprintf("%s Step %s %s", dir, entries[i].Step, journal.KeyPrevious)
			return
		}
	}
	for _, e := range entries {
		if t := Tag(e.Data[journal.KeyImageBefore]); t != "" && t != release && e.Data[journal.KeyDeployment] != "" {
			b.Version, b.VersionFrom = t, fmt.Sprintf("%s Step %s %s", dir, e.Step, journal.KeyImageBefore)
			return
		}
	}
}

func withoutRollback(entries []journal.Entry) []journal.Entry {
	out := make([]journal.Entry, 0, len(entries))
	for _, e := range entries {
		if e.Phase != journal.Rollback {
			out = append(out, e)
		}
	}
	return out
}

// Missing says what no journal told: for the deployments named, the runs
// read and the key looked for.
func (b Before) Missing(release string, deployments []string) string {
	return fmt.Sprintf("no journal records what %s ran before %s (no %s whose tag is not %s in the deployment runs of %s read: %s)",
		strings.Join(deployments, ", "), release, journal.KeyImageBefore, release, release, strings.Join(b.Looked, ", "))
}

// Tag is an image's tag: granter/backend-core:v1.9.0 -> v1.9.0.
func Tag(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}
