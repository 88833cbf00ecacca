package runfolder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/journal"
)

// Deployment is one deployment run: a run folder whose journal records
// Step 1.1 done.
type Deployment struct {
	Dir string
	Env string
	// Started is when the deployment started: the first entry of its
	// journal.
	Started time.Time
	// Version is the release deployed (Step 1.1's journal.KeyVersion).
	Version string
	// Backup is the backup file Step 1.1 took (journal.KeyBackupFile).
	Backup string
	// Entries are the run's journal.
	Entries []journal.Entry
}

// Skipped is a run folder that is not a deployment run, and why.
type Skipped struct {
	Dir string
	Why string
}

// Of returns the deployment recorded in dir's journal entries, and false
// when they record none: no Phase 1 Step 1.1 done with its backup file.
// The newest such Step 1.1 counts (a step run again into the same folder).
func Of(dir string, entries []journal.Entry) (Deployment, bool) {
	backup, ok := journal.Last(entries, IsBackupStep)
	if !ok {
		return Deployment{}, false
	}
	d := Deployment{Dir: dir, Env: backup.Env, Version: backup.Data[journal.KeyVersion], Backup: backup.Data[journal.KeyBackupFile], Entries: entries}
	for _, e := range entries {
		if t := entryTime(e); !t.IsZero() {
			d.Started = t
			break
		}
	}
	return d, true
}

// IsBackupStep is the journal entry that makes a run folder a deployment
// run: Phase 1's Step 1.1 (Final Database Backup) done, naming its file.
func IsBackupStep(e journal.Entry) bool {
	return e.Phase == journal.Phase1 && e.Step == "1.1" && e.Status == journal.StatusOK && e.Data[journal.KeyBackupFile] != ""
}

func entryTime(e journal.Entry) time.Time {
	if !e.Started.IsZero() {
		return e.Started
	}
	return e.Time
}

// List returns the deployment runs of env under root (folders named
// <timestamp>-<env>), oldest first (by when they started, then by name),
// and the folders that are not deployment runs, newest first, with why.
func List(root, env string) ([]Deployment, []Skipped, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "*-"+env))
	if err != nil {
		return nil, nil, fmt.Errorf("run folders %s: %w", filepath.Join(root, "*-"+env), err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	var runs []Deployment
	var skipped []Skipped
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		entries, err := journal.Read(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			skipped = append(skipped, Skipped{dir, "no " + journal.FileName})
			continue
		case err != nil:
			skipped = append(skipped, Skipped{dir, "journal unreadable: " + err.Error()})
			continue
		}
		d, ok := Of(dir, entries)
		switch {
		case !ok:
			skipped = append(skipped, Skipped{dir, "not a deployment run (" + phases(entries) + ", no Phase 1 Step 1.1 done)"})
		case d.Env != "" && d.Env != env:
			skipped = append(skipped, Skipped{dir, "a deployment to " + d.Env + ", not " + env})
		default:
			runs = append(runs, d)
		}
	}
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].Started.Equal(runs[j].Started) {
			return runs[i].Started.Before(runs[j].Started)
		}
		return runs[i].Dir < runs[j].Dir
	})
	return runs, skipped, nil
}

// phases says which phases a journal holds: "preflight entries only",
// "rollback entries only", "preflight, phase1 entries", "empty journal".
func phases(entries []journal.Entry) string {
	var seen []string
	for _, e := range entries {
		p := string(e.Phase)
		if p == "" {
			p = "unnamed-phase"
		}
		if !contains(seen, p) {
			seen = append(seen, p)
		}
	}
	switch len(seen) {
	case 0:
		return "empty journal"
	case 1:
		return seen[0] + " entries only"
	}
	return strings.Join(seen, ", ") + " entries"
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// Choice is the deployment run a rollback without RUN undoes.
type Choice struct {
	Deployment
	// Passed are the newer folders that were not chosen, newest first.
	Passed []Skipped
}

// Newest returns the newest deployment run of env under root. The error
// says which folders were looked at and why none qualifies.
func Newest(root, env string) (Choice, error) {
	runs, skipped, err := List(root, env)
	if err != nil {
		return Choice{}, err
	}
	if len(runs) == 0 {
		why := "none exists"
		if len(skipped) > 0 {
			var parts []string
			for _, s := range skipped {
				parts = append(parts, filepath.Base(s.Dir)+": "+s.Why)
			}
			why = strings.Join(parts, "; ")
		}
		return Choice{}, fmt.Errorf("no deployment run of %s in %s (a run folder <timestamp>-%s whose %s records Phase 1 Step 1.1, the Final Database Backup, done): %s",
			env, root, env, journal.FileName, why)
	}
	c := Choice{Deployment: runs[len(runs)-1]}
	for _, s := range skipped {
		if filepath.Base(s.Dir) > filepath.Base(c.Dir) {
			c.Passed = append(c.Passed, s)
		}
	}
	return c, nil
}

// Reason says why c was chosen, in one paragraph for the on-call.
func (c Choice) Reason() string {
	s := fmt.Sprintf("run folder %s: the newest deployment run of %s (deployment started %s, release %s, backup %s)",
		c.Dir, orDash(c.Env), stamp(c.Started), orDash(c.Version), orDash(c.Backup))
	if len(c.Passed) > 0 {
		var parts []string
		for _, p := range c.Passed {
			parts = append(parts, filepath.Base(p.Dir)+" ("+p.Why+")")
		}
		s += "; newer folders passed over: " + strings.Join(parts, ", ")
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "at an unrecorded time"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
