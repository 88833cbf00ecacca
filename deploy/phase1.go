package deploy

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/notify"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/progress"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/internal/wait"
)

// Deadlines of Phase 1.
const (
	// BackupTimeout bounds the dump and its verification: Phase 1's window.
	BackupTimeout = 15 * time.Minute
	// NotifyTimeout bounds the team message.
	NotifyTimeout = 30 * time.Second
	// DrainSlack is added to thresholds.drainGrace (the runbook's "graceful
	// shutdown (30 seconds)") for the controller to act and the pods to go.
	DrainSlack = time.Minute
	// DBTimeout bounds one database connection and query.
	DBTimeout = 10 * time.Second
	// SessionsPoll is how often Step 1.4 reads pg_stat_activity again while
	// sessions are busy.
	SessionsPoll = 500 * time.Millisecond
)

// Drained are the deployments Step 1.3 scales to 0.
var Drained = []string{target.BackendCore}

// ChangesScratch marks a step that creates and drops a scratch database
// (the backup's verification): it needs confirmation, but leaves nothing
// to roll back.
const ChangesScratch = "scratch database"

// Phase1 is "Phase 1: Pre-Deployment (14:00-14:15)".
func Phase1(tgt *target.Target, version string) []Step {
	return []Step{backupStep(tgt), notifyStep(tgt, version), drainStep(tgt), sessionsStep(tgt)}
}

// dbVar is the environment variable that holds the database URL, as a
// shell reference for manual commands.
func dbVar(tgt *target.Target) string {
	if tgt.Database != nil && tgt.Database.URL.Name() != "" {
		return `"$` + tgt.Database.URL.Name() + `"`
	}
	return `"$DATABASE_URL"`
}

func dbName(tgt *target.Target) string {
	if tgt.Database != nil && tgt.Database.Name != "" {
		return tgt.Database.Name
	}
	return "granter_db"
}

// dbHost names the database server without its credentials.
func dbHost(tgt *target.Target) string {
	if tgt.Database == nil {
		return "(no database: section)"
	}
	if tgt.Database.Container != "" {
		c := tgt.Database.Container
		if len(c) > 12 {
			c = c[:12]
		}
		return "container " + c
	}
	if u, err := url.Parse(tgt.Database.URL.Reveal()); err == nil && u.Host != "" {
		return u.Host
	}
	return "the server of " + strings.Trim(dbVar(tgt), `"`)
}

func backupStep(tgt *target.Target) Step {
	manual := fmt.Sprintf("pg_dump -Fc -Z1 -d %s > %s/backup-$(date -u +%%Y%%m%%d-%%H%%M%%S).dump && sha256sum backup-*.dump   (as written in the runbook: docker exec postgres pg_dump -U granter granter_db > backup-$(date +%%Y%%m%%d-%%H%%M%%S).sql)",
		dbVar(tgt), tgt.Backup.Dir)
	if tgt.Database != nil && tgt.Database.Container != "" {
		manual = fmt.Sprintf("docker exec %s pg_dump -Fc -Z1 -U granter %s > %s/backup-$(date -u +%%Y%%m%%d-%%H%%M%%S).dump && sha256sum backup-*.dump",
			strings.TrimPrefix(dbHost(tgt), "container "), dbName(tgt), tgt.Backup.Dir)
	}
	return Step{
		Phase: journal.Phase1, ID: "1.1", Title: "Final Database Backup", Manual: manual,
		Would: fmt.Sprintf("dump %s on %s in pg_dump's custom format into %s (0600), record its sha256 and every table's rows and checksum, then verify it by restoring into a scratch database (dropped afterwards) and comparing",
			dbName(tgt), dbHost(tgt), tgt.Backup.Dir),
		Changes: ChangesScratch, Class: exitcode.Deploy, Timeout: BackupTimeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			src, err := pgbackup.SourceOf(s.Target)
			if err != nil {
				return err
			}
			scratch := pgbackup.ScratchOf(s.Target, src)
			// One pass: pg_dump's output is written to the file and
			// restored into a scratch database at the same time, then
			// the copy is compared with the dump's snapshot.
			p := progress.New(r.Writer(), "backup: dumping "+src.Database+" and restoring it into a scratch database", 0)
			b, verr, err := pgbackup.DumpVerified(ctx, src, s.Target.Backup.Dir, scratch, pgbackup.WithProgress(func(pr pgbackup.Progress) {
				switch pr.Stage {
				case "dumping":
					p.Update(pr.Bytes)
				case "restoring":
					p.Note("restored %s", pgbackup.MB(pr.Bytes))
				case "comparing":
					p.Note("comparing the copy with the dump's snapshot")
				}
			}, time.Second))
			if err != nil {
				_ = p.Done("failed")
				return fmt.Errorf("backup of %s: %w", src.Database, err)
			}
			r.Set(journal.KeyBackupFile, b.Path)
			r.Set(journal.KeyBackupSHA256, b.SHA256)
			r.Set("backup.size", fmt.Sprint(b.Size))
			r.Set(journal.KeyBackupTaken, b.Taken.Format(time.RFC3339))
			r.Set("backup.tables", fmt.Sprint(len(b.Tables)))
			r.Set("backup.rows", fmt.Sprint(b.Rows()))
			r.Set("backup.manifest", b.ManifestPath())
			r.Logf("%s: %s, sha256 %s, %d tables, %d rows", b.Path, pgbackup.MB(b.Size), b.SHA256, len(b.Tables), b.Rows())
			if verr != nil {
				_ = p.Done("failed")
				return fmt.Errorf("backup %s taken but NOT verified: %w", filepath.Base(b.Path), verr)
			}
			p.Update(b.Size)
			_ = p.Done("verified")
			v := b.Verified
			r.Set(journal.KeyBackupVerified, "true")
			r.Set("backup.verified.at", v.At.UTC().Format(time.RFC3339))
			r.Set("backup.verified.postdata", v.PostData)
			r.Resultf("%s: %s, sha256 %s…, %d tables / %d rows; verified: restored into %s and compared table by table, %d owners, privileges and definitions (%s); post-data section %s",
				filepath.Base(b.Path), pgbackup.MB(b.Size), b.SHA256[:12], v.Tables, v.Rows, v.Scratch, v.Objects, short(v.Restore+v.Compare), v.PostData)
			return nil
		},
	}
}

// NotifyText is the team message of Step 1.2.
func NotifyText(tgt *target.Target, version string, at time.Time) string {
	return fmt.Sprintf("Starting %s deployment of Granter %s at %s UTC (runbook Step 1.2; Phase 1 of 4). Backend-core is drained next; watch this channel.",
		tgt.Env, version, at.UTC().Format("15:04"))
}

func notifyStep(tgt *target.Target, version string) Step {
	hook, channel := `"$WEBHOOK_URL"`, "(no webhook: section)"
	if tgt.Webhook != nil {
		channel = tgt.Webhook.Channel
		if n := tgt.Webhook.URL.Name(); n != "" {
			hook = `"$` + n + `"`
		}
	}
	return Step{
		Phase: journal.Phase1, ID: "1.2", Title: "Notify Operations Team",
		Manual: fmt.Sprintf(`curl -fsS -X POST -H 'Content-Type: application/json' -d '{"text":"Starting production deployment at 14:15"}' %s`, hook),
		Would:  fmt.Sprintf("post %q to the team channel %s through its Slack-compatible webhook", NotifyText(tgt, version, time.Now()), channel),
		// The message is seen by people: it needs the confirmation too.
		Changes: ChangesChannel, Class: exitcode.Deploy, Timeout: NotifyTimeout,
		Run: func(ctx context.Context, s *State, r *Record) error {
			w := s.Target.Webhook
			if w == nil || w.URL.IsZero() {
				return fmt.Errorf("no team channel: the webhook: section of %s (or its urlEnv) is missing, so the team cannot be told; configure it", s.Target.File)
			}
			text := NotifyText(s.Target, s.Version, time.Now())
			if err := notify.New(w.URL.Reveal(), w.Channel, s.Target.HTTP.Timeout).Send(ctx, text); err != nil {
				return err
			}
			r.Set("notify.channel", w.Channel)
			r.Set("notify.text", text)
			r.Logf("runbook: \"✅ Team acknowledged\": a webhook cannot see acknowledgements; the on-call engineer confirms them in %s", w.Channel)
			r.Resultf("posted to %s: %q", w.Channel, text)
			return nil
		},
	}
}

func drainStep(tgt *target.Target) Step {
	k := kube.Describe(tgt)
	grace := tgt.Thresholds.DrainGrace
	var manual []string
	for _, d := range Drained {
		manual = append(manual, fmt.Sprintf("%s scale deployment/%s --replicas=0 && %s wait --for=delete pod -l app=%s --timeout=%s", k, d, k, d, grace+DrainSlack))
	}
	return Step{
		Phase: journal.Phase1, ID: "1.3", Title: "Drain Existing Connections", Manual: strings.Join(manual, "; "),
		Would: fmt.Sprintf("record the replica count of %s, scale it to 0 and wait until its pods are gone (graceful shutdown %s, at most %s)",
			strings.Join(Drained, ", "), grace, grace+DrainSlack),
		Changes: ChangesReplicas, Class: exitcode.Deploy, Timeout: grace + DrainSlack + 30*time.Second,
		Run: func(ctx context.Context, s *State, r *Record) error {
			cs, err := s.Kube()
			if err != nil {
				return err
			}
			ns := s.Namespace()
			for _, d := range Drained {
				sc, err := cs.AppsV1().Deployments(ns).GetScale(ctx, d, metav1.GetOptions{})
				if err != nil {
					return fmt.Errorf("reading the replicas of deployment %s/%s: %w", ns, d, err)
				}
				before := sc.Spec.Replicas
				if before == 0 {
					if prev, ok := s.ReplicasBefore[d]; ok && prev > 0 {
						before = prev
						r.Logf("%s already has 0 replicas; the journal of this run recorded %d before an earlier drain", d, prev)
					} else {
						return fmt.Errorf("deployment %s/%s already has 0 replicas and no earlier entry of this run's journal records how many it had: Step 3.1 could not bring it back. Scale it to its usual count first (%s scale deployment/%s --replicas=N), or pass the run folder of the drain (--run-dir)",
							ns, d, kube.Describe(s.Target), d)
					}
				}
				pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + d})
				if err != nil {
					return fmt.Errorf("listing the pods of %s/%s: %w", ns, d, err)
				}
				var ips []string
				for _, p := range pods.Items {
					if p.Status.PodIP != "" {
						ips = append(ips, p.Status.PodIP)
					}
				}
				s.ReplicasBefore[d], s.PodIPsBefore[d] = before, ips
				r.Set(journal.KeyDeployment, d)
				r.Set(journal.KeyReplicasBefore, fmt.Sprint(before))
				r.Set("pods.before", fmt.Sprint(len(pods.Items)))
				r.Logf("%s: %d replicas, %d pods (%s); recorded in the journal: the runbook never scales it back, Step 3.1 will restore %d",
					d, before, len(pods.Items), strings.Join(ips, ", "), before)
				if err := r.Acting(fmt.Sprintf("scale %s from %d replicas to 0", d, before)); err != nil {
					return err
				}
				start := time.Now()
				if err := kube.Scale(ctx, cs, ns, d, 0); err != nil {
					return err
				}
				r.Logf("scaled %s to 0; waiting for its pods to be gone (graceful shutdown %s)", d, s.Target.Thresholds.DrainGrace)
				wctx, cancel := context.WithTimeout(ctx, s.Target.Thresholds.DrainGrace+DrainSlack)
				err = kube.WaitNoPods(wctx, cs, ns, d)
				cancel()
				if err != nil {
					return err
				}
				r.Resultf("%s scaled from %d replicas to 0; no pod left after %s", d, before, short(time.Since(start)))
			}
			return nil
		},
	}
}

// Session is one client session on the database (pg_stat_activity).
type Session struct {
	PID         int
	Application string
	Client      string
	State       string
	User        string
	XactAge     time.Duration
}

func (s Session) String() string {
	app := s.Application
	if app == "" {
		app = "(no application_name)"
	}
	out := fmt.Sprintf("pid %d %s from %s as %s, %s", s.PID, app, orDefault(s.Client, "local socket"), s.User, orDefault(s.State, "?"))
	if s.XactAge > 0 {
		out += fmt.Sprintf(" (transaction open %s)", short(s.XactAge))
	}
	return out
}

// busy: the session runs a query or holds a transaction open, so the
// migrations would wait on it or conflict with it.
func (s Session) busy() bool {
	return s.State == "active" || strings.HasPrefix(s.State, "idle in transaction") || s.State == "fastpath function call"
}

// ours: the runbook's own sessions (pgbackup, this step).
func (s Session) ours() bool { return strings.HasPrefix(s.Application, "runbook-") }

const sessionsQuery = `SELECT pid, coalesce(application_name, ''), coalesce(host(client_addr), ''), coalesce(state, ''),
	coalesce(usename::text, ''), coalesce(extract(epoch FROM now() - xact_start), 0)::float8
FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'
ORDER BY pid`

// Sessions lists the client sessions on the target's database, except the
// one it opens to ask.
func Sessions(ctx context.Context, tgt *target.Target) ([]Session, error) {
	conn, err := connect(ctx, tgt)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	qctx, cancel := context.WithTimeout(ctx, DBTimeout)
	defer cancel()
	rows, err := conn.Query(qctx, sessionsQuery, dbName(tgt))
	if err != nil {
		return nil, fmt.Errorf("reading pg_stat_activity of %s: %w", dbName(tgt), err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		var age float64
		if err := rows.Scan(&s.PID, &s.Application, &s.Client, &s.State, &s.User, &age); err != nil {
			return nil, err
		}
		s.XactAge = time.Duration(age * float64(time.Second))
		out = append(out, s)
	}
	return out, rows.Err()
}

// connect opens one session on the target's database as application
// runbook-deploy (so Step 1.4 leaves it out).
func connect(ctx context.Context, tgt *target.Target) (*pgx.Conn, error) {
	if tgt.Database == nil || tgt.Database.URL.IsZero() {
		return nil, fmt.Errorf("the target gives no database access (database.urlEnv in %s)", tgt.File)
	}
	cfg, err := pgx.ParseConfig(tgt.Database.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("the database URL in %s does not parse as a Postgres URL", tgt.Database.URL.Name())
	}
	if cfg.Database == "" {
		cfg.Database = dbName(tgt)
	}
	cfg.RuntimeParams["application_name"] = "runbook-deploy"
	cfg.ConnectTimeout = DBTimeout
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s on %s: %s", dbName(tgt), dbHost(tgt), tgt.Redact(err.Error()))
	}
	return conn, nil
}

func sessionsStep(tgt *target.Target) Step {
	return Step{
		Phase: journal.Phase1, ID: "1.4", Title: "Verify No Active Connections",
		Manual: fmt.Sprintf(`psql %s -c "SELECT pid, application_name, client_addr, state FROM pg_stat_activity WHERE datname = '%s' AND backend_type = 'client backend'"   (as written in the runbook: ps aux | grep node — it cannot see a cluster)`,
			dbVar(tgt), dbName(tgt)),
		Would: fmt.Sprintf("read pg_stat_activity of %s on %s: no session of %s left (by application_name, or from the pods' addresses before the drain), and no session running a query or holding a transaction open (waiting up to %s for them to end)",
			dbName(tgt), dbHost(tgt), strings.Join(Drained, ", "), tgt.Thresholds.DrainGrace),
		Class: exitcode.Deploy, Timeout: tgt.Thresholds.DrainGrace + time.Minute,
		Run: func(ctx context.Context, s *State, r *Record) error {
			grace := s.Target.Thresholds.DrainGrace
			name := fmt.Sprintf("no session of %s and none running a query or holding a transaction open on %s before the migrations (thresholds.drainGrace)",
				strings.Join(Drained, ", "), dbName(s.Target))
			waited := false
			// pg_stat_activity has no change feed: read it again shortly.
			// A drained pod's sessions get the same grace as busy ones: the
			// server ends a backend only after its client closed the socket
			// (moments after the pod is gone), or after TCP keepalive when the
			// pod was killed without closing its pool.
			return wait.Poll(ctx, name, SessionsPoll, grace, func(ctx context.Context) (bool, string, error) {
				sessions, err := Sessions(ctx, s.Target)
				if err != nil {
					if ctx.Err() != nil {
						return false, "", nil // the deadline cut the read short
					}
					return false, "", err
				}
				var drained, busy, idle []Session
				for _, ses := range sessions {
					switch {
					case ses.ours():
					case slices.Contains(Drained, ses.Application) || s.fromDrainedPod(ses.Client):
						drained = append(drained, ses)
					case ses.busy():
						busy = append(busy, ses)
					default:
						idle = append(idle, ses)
					}
				}
				r.Set("sessions.remaining", fmt.Sprint(len(drained)+len(busy)+len(idle)))
				r.Set("sessions.busy", fmt.Sprint(len(busy)))
				r.Set("sessions.drained", fmt.Sprint(len(drained)))
				var seen []string
				if len(drained) > 0 {
					seen = append(seen, fmt.Sprintf("%d sessions of the drained %s still on %s, expected none (its pods are gone: a process outside the cluster, a pool behind a proxy, or a pod killed without closing its connections?):\n  %s",
						len(drained), strings.Join(Drained, ", "), dbName(s.Target), strings.Join(strs(drained), "\n  ")))
				}
				if len(busy) > 0 {
					seen = append(seen, fmt.Sprintf("%d sessions still busy, expected none:\n  %s", len(busy), strings.Join(strs(busy), "\n  ")))
				}
				if len(seen) > 0 {
					if !waited {
						r.Logf("%s\nwaiting up to %s for them to end", strings.Join(seen, "\n"), grace)
					}
					waited = true
					return false, strings.Join(seen, "\n"), nil
				}
				if waited {
					r.Logf("those sessions ended")
				}
				r.Set("sessions.idle", fmt.Sprint(len(idle)))
				r.Resultf("no session of %s and none busy on %s; %d idle sessions of the services the runbook keeps running (%s)",
					strings.Join(Drained, ", "), dbName(s.Target), len(idle), byApp(idle))
				if len(idle) > 0 && noAppNames(idle) {
					r.Logf("note: these sessions carry no application_name, so Step 1.4 cannot tell whose they are; set application_name=<service> in each service's DATABASE_URL to name them")
				}
				return true, "", nil
			})
		},
	}
}

func (s *State) fromDrainedPod(client string) bool {
	if client == "" {
		return false
	}
	for _, ips := range s.PodIPsBefore {
		if slices.Contains(ips, client) {
			return true
		}
	}
	return false
}

func strs(ss []Session) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.String()
	}
	return out
}

func byApp(ss []Session) string {
	if len(ss) == 0 {
		return "none"
	}
	n := map[string]int{}
	for _, s := range ss {
		n[orDefault(s.Application, "no application_name")]++
	}
	var parts []string
	for k, v := range n {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func noAppNames(ss []Session) bool {
	for _, s := range ss {
		if s.Application != "" {
			return false
		}
	}
	return true
}
