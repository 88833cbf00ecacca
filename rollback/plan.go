package rollback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/rollback/runfolder"
)

// Phase is the journal phase of the rollback's own entries.
const Phase = journal.Rollback

// refuse refuses the rollback before anything changes: no verified backup,
// a backup that changed since it was verified, nothing to roll back to, no
// confirmation. It is an *exitcode.Refusal, exit code 8.
func refuse(format string, args ...any) error {
	return exitcode.Refuse("rollback", fmt.Sprintf(format, args...))
}

// Image is what Steps 2 and 4 do to one deployment.
type Image struct {
	Deployment string
	Container  string
	// Current is the image the deployment runs now (the cluster's pod
	// template); empty when the cluster was not read.
	Current string
	// Previous is the image to restore, and PreviousFrom where it was
	// found (the journal entry, or "unchanged by the run").
	Previous     string
	PreviousFrom string
	// Replicas is what the deployment is scaled back to once its image is
	// set, and ReplicasFrom where that number came from.
	Replicas     int32
	ReplicasFrom string
}

// Plan is the rollback of one run: which backup goes back into which
// database, which image each deployment returns to. It is built from the
// run's journal without changing anything.
type Plan struct {
	Env     string
	RunDir  string
	Journal string // the journal file read
	// From is the version being rolled back (v2.0.0), To the one restored
	// (v1.9.0).
	From, To string
	// Backup is the verified backup the journal names, and BackupFrom the
	// entry that named it.
	Backup     pgbackup.Backup
	BackupFrom string
	Database   pgbackup.Source
	Namespace  string
	// Kubectl is how the manual commands name the target's cluster:
	// kubectl with the file's kubeconfig and context, and the namespace
	// (kube.Describe), so a command copied from the plan acts on this
	// target, never on the terminal's current context.
	Kubectl string
	Images  []Image
	// FromJournal is false when the journal records no deployment (a dry
	// run before one, from preflight): the plan then comes from the current
	// state: the images running now and the newest verified backup.
	FromJournal bool
	// Notes are what the on-call should know before running it.
	Notes []string
}

// PlanFor reads the run folder's journal and the cluster (read-only) and
// returns the rollback plan. It refuses (an *exitcode.Refusal, exit code
// Refused) when the journal names no backup, the backup was not verified,
// its file no longer has the recorded sha256, or no previous image is
// known. Nothing is changed: it reads the journal, the backup manifest and
// file (to hash it), and the Deployments.
func PlanFor(ctx context.Context, tgt *target.Target, runDir string) (*Plan, error) {
	return plan(ctx, tgt, runDir, true)
}

// plan is PlanFor; strict=false lets a journal without a deployment plan
// from the current state (DryRun before a deployment).
func plan(ctx context.Context, tgt *target.Target, runDir string, strict bool) (*Plan, error) {
	p := &Plan{Env: tgt.Env, RunDir: runDir, Journal: filepath.Join(runDir, journal.FileName)}
	if tgt.Database == nil {
		return nil, refuse("the target has no database access (no database: section in %s): the database cannot be restored", tgt.File)
	}
	src, err := pgbackup.SourceOf(tgt)
	if err != nil {
		return nil, refuse("%v", err)
	}
	p.Database = src
	if tgt.Kube == nil {
		return nil, refuse("the target has no Kubernetes access (no kube: section in %s): the images cannot be restored", tgt.File)
	}
	p.Namespace = tgt.Kube.Namespace
	p.Kubectl = kube.Describe(tgt)

	entries, err := journal.Read(runDir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !strict:
		entries = nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, refuse("no journal in %s (%s missing): the rollback restores what a deployment recorded there; name the run folder of the deployment (RUN=runs/<timestamp>-%s)", runDir, journal.FileName, tgt.Env)
	case err != nil:
		return nil, refuse("the journal %s cannot be read: %v", p.Journal, err)
	}
	deployEntries := make([]journal.Entry, 0, len(entries))
	for _, e := range entries {
		if e.Phase != Phase {
			deployEntries = append(deployEntries, e)
		}
	}

	if err := p.findBackup(tgt, deployEntries, strict); err != nil {
		return nil, err
	}
	cs, err := kube.NewClientset(tgt.Kube.Kubeconfig, tgt.Kube.Context)
	if err != nil {
		return nil, refuse("Kubernetes: %v", err)
	}
	if err := p.findImages(ctx, tgt, cs, deployEntries, entries, strict); err != nil {
		return nil, err
	}
	p.versions(tgt, deployEntries)
	p.noteInterrupted(deployEntries)
	if strict && !migrated(deployEntries) {
		p.Notes = append(p.Notes, "the journal records no migration (Phase 2 did not start): the database schema was not changed by this run; the restore (Step 3, \"If Needed\") may be unnecessary: --skip-database (SKIP_DATABASE=1) keeps the database as it is")
	}
	if age := time.Since(p.Backup.Taken); age > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("the database goes back to %s (%s ago): what was written since is not lost but set aside in %s_before_<time>, kept until someone drops it",
			p.Backup.Taken.Format("2006-01-02 15:04:05 MST"), age.Round(time.Second), src.Database))
	}
	return p, nil
}

// findBackup: the backup of the run's Step 1.1 (backup.file and
// backup.sha256); when not strict (a dry run before a deployment) also the
// newest ok entry naming one (file and sha256, as checklist item 1 does),
// else the newest verified backup. It is proven by its manifest: same
// sha256, verified, and the file still hashing to it.
func (p *Plan) findBackup(tgt *target.Target, entries []journal.Entry, strict bool) error {
	var named *journal.Entry
	var file, sum string
	for i := len(entries) - 1; i >= 0 && named == nil; i-- {
		e := entries[i]
		if e.Status != journal.StatusOK {
			continue
		}
		switch {
		case runfolder.IsBackupStep(e):
			named, file, sum = &entries[i], e.Data[journal.KeyBackupFile], e.Data[journal.KeyBackupSHA256]
		case strict:
			// A rollback undoes a deployment run: only its Step 1.1
			// backup goes back, never a checklist's (a preflight folder).
		case e.Data[journal.KeyBackupFile] != "":
			named, file, sum = &entries[i], e.Data[journal.KeyBackupFile], e.Data[journal.KeyBackupSHA256]
		case e.Data["file"] != "" && e.Data["sha256"] != "":
			named, file, sum = &entries[i], e.Data["file"], e.Data["sha256"]
		}
	}
	if named == nil {
		if strict {
			return refuse("the journal %s names no backup of a deployment (no ok Phase 1 Step 1.1 \"Final Database Backup\" entry with %s and %s): it is not a deployment run (a `make preflight` folder, or one holding only a rollback), and there is nothing safe to restore the database from; name the deployment's run folder (RUN=runs/<timestamp>-%s)",
				p.Journal, journal.KeyBackupFile, journal.KeyBackupSHA256, tgt.Env)
		}
		b, err := pgbackup.LatestVerified(tgt.Backup.Dir, p.Database.Database)
		if err != nil {
			return refuse("no verified backup to restore: the journal %s names none and %v (checklist item 1 takes and verifies one)", p.Journal, err)
		}
		if err := pgbackup.CheckIntegrity(b); err != nil {
			return refuse("the newest verified backup cannot be used: %v", err)
		}
		p.Backup, p.BackupFrom = b, "newest verified backup in "+tgt.Backup.Dir+" (the journal names none yet)"
		return nil
	}
	b, from, err := runfolder.Prove(*named, file, sum, tgt.Backup.Dir, p.RunDir, p.Database.Database)
	if err != nil {
		return refuse("%v", err)
	}
	p.Backup, p.BackupFrom, p.FromJournal = b, from, true
	return nil
}

// findImages: per deployment, its image before the release
// (runfolder.Previous: the earliest image.before not of the release, in
// this run, else in the earlier deployment runs of the same release),
// else, when the journals know the previous version, that version's
// image; a deployment the run never changed keeps its image, but one that
// runs the release with no image known from before it is refused: the
// rollback would leave it on the release. Replicas: the live count, else
// the newest replicas.before recorded (a rollback interrupted after Step
// 2), else 1.
func (p *Plan) findImages(ctx context.Context, tgt *target.Target, cs kubernetes.Interface, deploy, all []journal.Entry, strict bool) error {
	release := p.release(tgt, deploy)
	before, err := runfolder.Previous(p.RunDir, tgt.Env, release, deploy)
	if err != nil {
		return refuse("the earlier deployment runs of %s cannot be read: %v", release, err)
	}
	previous := before.Version
	var unknown, unknownNames []string
	for _, svc := range tgt.Services {
		img := Image{Deployment: svc.Name, Container: svc.Name}
		d, err := cs.AppsV1().Deployments(p.Namespace).Get(ctx, svc.Name, metav1.GetOptions{})
		if err != nil {
			return refuse("deployment %s/%s cannot be read: %v", p.Namespace, svc.Name, err)
		}
		found := false
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name == img.Container {
				img.Current, found = c.Image, true
			}
		}
		if !found {
			return refuse("deployment %s/%s has no container %s: the images cannot be set", p.Namespace, svc.Name, img.Container)
		}
		switch b, ok := before.Images[svc.Name]; {
		case ok:
			img.Previous, img.PreviousFrom = b.Image, "journal "+b.From
		case previous != "" && svc.Image != "":
			img.Previous, img.PreviousFrom = svc.Image+":"+previous, "the previous version "+previous+" ("+before.VersionFrom+"; no image recorded for it)"
		case release != "" && Tag(img.Current) == release && strict:
			unknown, unknownNames = append(unknown, fmt.Sprintf("%s (runs %s)", svc.Name, img.Current)), append(unknownNames, svc.Name)
			continue
		case release != "" && Tag(img.Current) == release:
			// A dry run before the deployment (checklist item 6): that the
			// release already runs is "Previous version identified"'s
			// finding; the scripts themselves are still rehearsed.
			img.Previous, img.PreviousFrom = img.Current, "unknown: it already runs "+release+" and no journal records what ran before"
			p.Notes = append(p.Notes, fmt.Sprintf("%s already runs %s: a real rollback would refuse until a journal names its previous image", svc.Name, release))
		default:
			img.Previous, img.PreviousFrom = img.Current, "unchanged by the run (no image recorded for it)"
		}
		live := int32(1)
		if d.Spec.Replicas != nil {
			live = *d.Spec.Replicas
		}
		switch r, from := recordedReplicas(all, svc.Name); {
		case live > 0:
			img.Replicas, img.ReplicasFrom = live, "live"
		case r > 0:
			img.Replicas, img.ReplicasFrom = r, from
		default:
			img.Replicas, img.ReplicasFrom = 1, "unknown (0 now, none recorded): 1"
			p.Notes = append(p.Notes, fmt.Sprintf("%s runs 0 replicas and the journal records no earlier count: it is scaled back to 1; scale it to its usual count afterwards (kubectl scale deployment/%s --replicas=N)", svc.Name, svc.Name))
		}
		p.Images = append(p.Images, img)
	}
	if len(unknown) > 0 {
		return refuse("%s: the rollback would leave them on %s; %s. Name the run folder of the first deployment of %s (RUN=runs/<timestamp>-%s), or set the previous image by hand (kubectl set image deployment/<name> <name>=<image>)",
			strings.Join(unknown, ", "), release, before.Missing(release, unknownNames), release, tgt.Env)
	}
	if strict && len(before.Images) == 0 && previous == "" {
		p.Notes = append(p.Notes, "the journal records no image change (Phase 3 did not start): the images stay as they are; only the database is restored")
	}
	return nil
}

// release is the version the run deployed, the one being rolled back: the
// journal's newest journal.KeyVersion, else (no journal yet) the target's.
func (p *Plan) release(tgt *target.Target, deploy []journal.Entry) string {
	if v := lastData(deploy, journal.KeyVersion); v != "" {
		return v
	}
	return tgt.Version
}

// migrated reports whether the journal records Phase 2 starting (any
// status: a migration that failed half-way changed the database too).
func migrated(entries []journal.Entry) bool {
	for _, e := range entries {
		if e.Phase == journal.Phase2 && (e.Status == journal.StatusOK || e.Status == journal.StatusFailed || e.Status == journal.StatusStarted) {
			return true
		}
	}
	return false
}

func recordedReplicas(entries []journal.Entry, deployment string) (int32, string) {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Data[journal.KeyDeployment] != deployment {
			continue
		}
		if n, err := strconv.Atoi(e.Data[journal.KeyReplicasBefore]); err == nil && n > 0 {
			return int32(n), fmt.Sprintf("journal %s Step %s %s", orDash(string(e.Phase)), e.Step, journal.KeyReplicasBefore)
		}
	}
	return 0, ""
}

func (p *Plan) versions(tgt *target.Target, deploy []journal.Entry) {
	p.From = lastData(deploy, journal.KeyVersion)
	if p.From == "" {
		for _, img := range p.Images {
			if img.Current != img.Previous {
				p.From = Tag(img.Current)
			}
		}
	}
	if p.From == "" {
		p.From = tgt.Version
	}
	tags := map[string]bool{}
	for _, img := range p.Images {
		tags[Tag(img.Previous)] = true
	}
	if len(tags) == 1 {
		for t := range tags {
			p.To = t
		}
	} else {
		var parts []string
		for _, img := range p.Images {
			parts = append(parts, img.Deployment+" "+Tag(img.Previous))
		}
		p.To = strings.Join(parts, ", ")
	}
}

// restoredVersion is the one version every service runs after the
// rollback (p.To, when versions found a single previous tag and it is a
// release version), or "" when the tags differ or are no release version:
// then the smoke flows hold /health to none, and say so.
func (p *Plan) restoredVersion() string {
	if !target.IsReleaseVersion(p.To) {
		return ""
	}
	return p.To
}

// Changed lists the deployments whose image the rollback changes.
func (p *Plan) Changed() []Image {
	var out []Image
	for _, img := range p.Images {
		if img.Current != img.Previous {
			out = append(out, img)
		}
	}
	return out
}

// Tag is an image's tag: granter/backend-core:v1.9.0 -> v1.9.0.
func Tag(image string) string { return runfolder.Tag(image) }

func lastData(entries []journal.Entry, key string) string {
	for i := len(entries) - 1; i >= 0; i-- {
		if v := entries[i].Data[key]; v != "" {
			return v
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 16 {
		return sha[:16] + "…"
	}
	return sha
}

// PlannedStep is one step of the ROLLBACK PROCEDURE as this plan does it,
// with the runbook's manual command.
type PlannedStep struct {
	N      int
	Name   string // notify, scale-down, restore, set-image, rollout, smoke
	Title  string // the runbook's words
	What   []string
	Manual []string
}

// Steps are the seven steps for this plan.
func (p *Plan) Steps() []PlannedStep {
	k := p.Kubectl
	if k == "" {
		k = "kubectl -n " + p.Namespace
	}
	var down, up, set, rollout, what2, what4, what5 []string
	for _, img := range p.Images {
		down = append(down, fmt.Sprintf("%s scale deployment/%s --replicas=0", k, img.Deployment))
		what2 = append(what2, fmt.Sprintf("%s: 0 replicas (now %d), wait until no pod is left", img.Deployment, img.Replicas))
		if img.Current != img.Previous {
			set = append(set, fmt.Sprintf("%s set image deployment/%s %s=%s", k, img.Deployment, img.Container, img.Previous))
			what4 = append(what4, fmt.Sprintf("%s: %s -> %s (%s), then %d replicas (%s)", img.Deployment, img.Current, img.Previous, img.PreviousFrom, img.Replicas, img.ReplicasFrom))
		} else {
			what4 = append(what4, fmt.Sprintf("%s: keeps %s (%s), then %d replicas (%s)", img.Deployment, img.Current, img.PreviousFrom, img.Replicas, img.ReplicasFrom))
		}
		up = append(up, fmt.Sprintf("%s scale deployment/%s --replicas=%d", k, img.Deployment, img.Replicas))
		rollout = append(rollout, fmt.Sprintf("%s rollout status deployment/%s --timeout=5m", k, img.Deployment))
		what5 = append(what5, fmt.Sprintf("%s: rollout complete, /health answers 200 at %s", img.Deployment, Tag(img.Previous)))
	}
	db := p.Database.Database
	b := p.Backup
	return []PlannedStep{
		{1, "notify", "Notify Team", []string{`send "ROLLBACK IN PROGRESS" to the team channel`}, nil},
		{2, "scale-down", "Scale Down New Deployment", what2, down},
		{3, "restore", "Rollback Database", []string{
			fmt.Sprintf("restore %s (%s, sha256 %s, taken %s, verified %s; %d tables, %d rows) into a NEW database with its owners and privileges, give it the database's owner (%s), privileges and settings, verify every table's row count and checksum and every object's owner and privileges against its manifest, then switch names: %s becomes %s_before_<time> (kept), the restored one becomes %s",
				filepath.Base(b.Path), pgbackup.MB(b.Size), short(b.SHA256), b.Taken.Format(time.RFC3339), verifiedAt(b), len(b.Tables), b.Rows(), orDash(b.Access["database"].Owner), db, db, db),
			"backup named by " + p.BackupFrom,
		}, []string{
			fmt.Sprintf("createdb -T template0 %s_restore && pg_restore --exit-on-error -d %s_restore %s   (as a role that is a member of every owner: owners and grants are restored)", db, db, filepath.Base(b.Path)),
			fmt.Sprintf(`psql -d postgres -c 'ALTER DATABASE %s_restore OWNER TO %s'   (then its ALTER DATABASE ... SET lines, recorded in %s)`, db, orDash(b.Access["database"].Owner), filepath.Base(b.ManifestPath())),
			fmt.Sprintf(`psql -d postgres -c 'ALTER DATABASE %s RENAME TO %s_before; ALTER DATABASE %s_restore RENAME TO %s'`, db, db, db, db),
		}},
		{4, "set-image", "Restore Previous Version", what4, append(set, up...)},
		{5, "rollout", "Verify Rollback", what5, rollout},
		{6, "smoke", "Run Smoke Tests", []string{"the five flows (" + strings.Join(phase4.FlowNames(), ", ") + ") against " + p.To}, []string{phase4.SmokeCommand() + "  (npm run test:smoke)"}},
		{7, "notify", "Notify Stakeholders", []string{fmt.Sprintf(`send "ROLLBACK COMPLETE - System stable on %s"; escalate for post-mortem analysis`, p.To)}, nil},
	}
}

func verifiedAt(b pgbackup.Backup) string {
	if b.Verified == nil {
		return "never"
	}
	return b.Verified.At.Format(time.RFC3339)
}

// Write prints the plan: what will be restored, each step with its manual
// command, and the notes.
func (p *Plan) Write(w io.Writer) {
	fmt.Fprintf(w, "rollback plan for %s: %s -> %s (run folder %s)\n", p.Env, orDash(p.From), orDash(p.To), p.RunDir)
	if !p.FromJournal {
		fmt.Fprintf(w, "  (the journal %s records no deployment: planned from the current state)\n", p.Journal)
	}
	for _, s := range p.Steps() {
		fmt.Fprintf(w, "Step %d: %s (%s)\n", s.N, s.Title, s.Name)
		for _, l := range s.What {
			fmt.Fprintf(w, "  - %s\n", l)
		}
		for _, l := range s.Manual {
			fmt.Fprintf(w, "    $ %s\n", l)
		}
	}
	notes := append([]string(nil), p.Notes...)
	sort.Strings(notes)
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
