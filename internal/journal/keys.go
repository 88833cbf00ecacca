package journal

// The Data keys one package writes and another reads: the steps of Phases
// 1-4, the watch and the rollback write them; the rollback, the monitor
// and the go-live report read them. A key used by one package only stays
// a string there.
const (
	KeyClass   = "class"   // the failure class (exitcode.Class) of a failed entry
	KeyVersion = "version" // the release the entry is about
	// KeyChanges is set on a "started" entry (StatusStarted): what the
	// step is about to change (deploy.ChangesDatabase, "images", ...).
	KeyChanges = "changes"

	// Step 1.1 and the rollback's restore.
	KeyBackupFile     = "backup.file"
	KeyBackupSHA256   = "backup.sha256"
	KeyBackupTaken    = "backup.taken"
	KeyBackupVerified = "backup.verified" // "true" once restored and compared

	// Steps 1.3 and 3.x, per deployment.
	KeyDeployment     = "deployment"
	KeyReplicasBefore = "replicas.before"
	KeyImageBefore    = "image.before"
	KeyImageAfter     = "image.after"
	KeyPrevious       = "previous" // the version before the deployment
	KeyRollout        = "rollout"  // "complete" once the rollout finished

	// Phase 2.
	KeyMigrationsExpected = "migrations.expected"
	KeyMigrationsApplied  = "migrations.applied"
	KeyMigrationsNew      = "migrations.new"

	// Phase 4 and the watch.
	KeySmokeFlows = "smoke.flows"
	KeySmokeFlaky = "smoke.flaky" // flows that failed once and passed on an immediate retry
	// KeyCoreBroken is set on a failed core check (phase4.Check.Core:
	// Steps 4.3, 4.4) that failed again on an immediate retry: the rule's
	// "core functionality broken", with the first line of why.
	KeyCoreBroken = "core.broken"
	// KeyCheckFlaky is set on a core check that failed once and passed on
	// an immediate retry (intermittent: Step 4.5's error rate judges it).
	KeyCheckFlaky = "check.flaky"
	// KeyInconclusive is set on a Phase 4 gate that failed on the
	// runbook's side (stopped, nothing reachable): why. Never a rollback.
	KeyInconclusive        = "inconclusive"
	KeyLogsQuery           = "logs.query"
	KeyRestarts            = "restarts"        // containers restarted in the window (Step 4.2, the watch)
	KeyRestartsSample      = "restarts.sample" // the first: pod, container, count, reason, previous log line
	KeySQLErrors           = "sql.errors"
	KeySQLErrorsSample     = "sql.errors.sample"
	KeyErrorRate           = "error_rate"
	KeyErrorRateQuery      = "error_rate.query"
	KeyErrorRateWindow     = "error_rate.window"
	KeyErrorRateRequests   = "error_rate.requests"
	KeyErrorRateThreshold  = "error_rate.threshold"
	KeyErrorRateErrors     = "error_rate.errors"  // 5xx answers counted in the window
	KeyErrorRateLo         = "error_rate.lo"      // 95% lower bound (stats.Bound)
	KeyErrorRateHi         = "error_rate.hi"      // 95% upper bound
	KeyErrorRateVerdict    = "error_rate.verdict" // MET, BREACHED or INCONCLUSIVE for "< threshold"
	KeyAlertsQuery         = "alerts.query"
	KeyAlertsCritical      = "alerts.critical"
	KeyAlertsCriticalNames = "alerts.critical.names"
	KeyMonitorWindow       = "monitor.window"
	// KeyMonitorRehearsal is "true" on the watch entry of a rehearsal
	// target (its file says rehearsal: true) whose watch was shorter than
	// phase4.MonitorWindow: the report then says REHEARSAL.
	KeyMonitorRehearsal = "monitor.rehearsal"
)

// Values of KeyChanges the rollback plan reads.
const (
	ChangesDatabase = "database"
	ChangesImages   = "images"
	ChangesReplicas = "replicas"
)
