package target

import (
	"crypto/x509"
	"strings"
	"time"
)

// Service names, in the order the runbook deploys them (Phase 3).
const (
	BackendCore = "backend-core"
	DataService = "data-service"
	WebFrontend = "web-frontend"
)

// Target is everything a check needs to know about one environment. It is
// loaded once per process (Load) and passed explicitly; nothing here is
// mutated after loading except by fixtures filling in local endpoints.
type Target struct {
	// Env is the environment's name (local, staging, prod), for reports only:
	// code branches on the capabilities below, never on Env.
	Env string
	// File is where the configuration was read from, for error messages.
	File string
	// ReadOnly: the target's data must not be reset. Smoke data is uniquely
	// named and deleted afterwards; destructive steps need Confirm.
	ReadOnly bool
	// Rehearsal: the target stands in for production in a rehearsal (the
	// local platform, make rehearse). Only there may the 4-hour watch be
	// compressed, and the go-live report then says REHEARSAL, never
	// GO-LIVE APPROVED.
	Rehearsal bool
	// Confirm is the word a destructive step needs (CONFIRM=<word> or
	// --confirm=<word>); empty means no confirmation is needed (local).
	Confirm string
	// Services in deployment order: backend-core, data-service, web-frontend.
	Services []Service
	// Kube is nil when the target has no Kubernetes access.
	Kube *Kube
	// Prometheus is nil when the target has no Prometheus.
	Prometheus *Prometheus
	// Database is nil when the target gives no database access.
	Database *Database
	// Webhook is the team channel for notifications; nil when none.
	Webhook *Webhook

	Thresholds Thresholds
	Migrations Migrations
	Smoke      Smoke
	HTTP       HTTP
	Backup     Backup
	Code       Code
	CI         CI
	Staging    Staging
	Team       Team
	// Browser is the headless browser the web-frontend is checked in
	// (TestHealth/frontend_in_browser); nil when the file names none, and
	// that step is then not applicable (NotApplicable says so).
	Browser *Browser
	// NotApplicable are the steps this target's file declares cannot run
	// on it, each with its reason and where else it is verified. Reports
	// show them as not applicable: never as passed, never as a blocker.
	NotApplicable []NotApplicable

	// Version is the release being deployed (v2.0.0), from the
	// RUNBOOK_VERSION environment variable (`make ... VERSION=v2.0.0` sets
	// it); empty when not given. Checks that need it fail saying so.
	Version string

	// secrets is a pointer so that printing a Target (%+v) shows an
	// address, never the values.
	secrets *secretSet
}

// Browser is the browser: section of a target's file.
type Browser struct {
	// Path is the browser's executable: a command looked up on PATH
	// (chromium, which make setup installs) or an absolute path.
	Path string
	// Timeout bounds the whole browser step: starting the browser, every
	// page and every action (default DefaultBrowserTimeout).
	Timeout time.Duration
}

// DefaultBrowserTimeout bounds the browser step when browser.timeout is
// not set.
const DefaultBrowserTimeout = 30 * time.Second

// Service is one Granter service as the runbook names it.
type Service struct {
	Name string // deployment and container name
	URL  string // base URL the checks call (no trailing slash)
	// Image is the repository without tag (granter/backend-core); the
	// version is the tag.
	Image string
	// Health is the health path (default /health); Live and Ready likewise.
	Health, Live, Ready string
}

// Kube says how to reach the cluster that runs the services.
type Kube struct {
	Kubeconfig string // path; empty means $KUBECONFIG or ~/.kube/config
	Context    string // kube context; empty means current-context
	Namespace  string
	// Secrets lists, per Kubernetes secret, the keys the services need.
	Secrets map[string][]string
	// Ingress is the name of the Ingress that routes the public hosts.
	Ingress string
	// TLSHosts are the public hosts whose certificates preflight checks.
	TLSHosts []string
	// TLSEndpoints, when set for a host, is the host:port checklist item 8
	// connects to for that host's certificate (with the host as SNI and
	// the name to verify); by default it is <host>:443. Locally a fixture
	// points both hosts at a TLS server on 127.0.0.1.
	TLSEndpoints map[string]string
	// TLSRootCA, when set, is a PEM file of the CA certificates the served
	// chains must verify against (a private CA; locally the fixture's test
	// CA); empty means the system's roots.
	TLSRootCA string
	// LogAllowlist are regular expressions of ERROR lines known to be harmless.
	LogAllowlist []string
}

// Prometheus says where the metrics are and which series are Granter's.
type Prometheus struct {
	URL string
	// Selector restricts every query to Granter's series, e.g. namespace="granter".
	Selector string
	// Dashboards are URLs that must answer (checklist item 7).
	Dashboards []string
}

// Database gives direct access to PostgreSQL (backup, migrations, restore).
type Database struct {
	URL  Secret
	Name string // granter_db
	// Container is set locally: pg_dump runs inside it, as the runbook's
	// `docker exec postgres pg_dump` does.
	Container string
}

// Webhook is the Slack-compatible team channel.
type Webhook struct {
	URL     Secret
	Channel string
}

// Thresholds are the runbook's numbers.
type Thresholds struct {
	ErrorRate         float64       // Phase 4.5 and success criteria: < 0.1%
	RollbackErrorRate float64       // rollback trigger: > 1%
	APIP95            time.Duration // monitoring: < 200ms
	DBQuery           time.Duration // monitoring: < 100ms
	CPU               float64       // monitoring: < 70%
	ActiveConnections int           // monitoring: < 100
	// MinSamples is how many real requests the checklist's error-rate
	// baseline (item 7) needs. The rate gates (Step 4.5, the watch, the
	// rollback rule) derive their sample from their threshold instead
	// (stats.MinSample: 2,995 for 0.1%).
	MinSamples     int
	RolloutTimeout time.Duration // Phase 3: --timeout=5m
	DrainGrace     time.Duration // Step 1.3: graceful shutdown (30 seconds)
	RollbackBudget time.Duration // checklist item 6: 15 minutes
	BackupMaxAge   time.Duration // checklist item 1: a backup older than this is stale
	TLSMinDays     int           // checklist item 8: certificates valid at least this long
	// LogWindow: checklist item 2, "Logging operational": every service
	// logged within this window (default 5m).
	LogWindow time.Duration
	// BaselineWindow: checklist item 7, "Error rate baseline established":
	// the error rate is measured over this window (default 1h).
	BaselineWindow time.Duration
}

// Migrations is what Phase 2 runs and expects.
type Migrations struct {
	Expected      []string // the six 2026 migrations, in order
	Command       []string // the configured migration command (argv)
	StatusCommand []string
}

// Smoke configures the five flows of Step 4.1.
type Smoke struct {
	UserPrefix    string // smoke users are <prefix><unique>@<EmailDomain>
	EmailDomain   string
	ListingURL    string        // the multi-page listing the scraper flow scrapes
	ListingPages  int           // pages that listing has (at least 5)
	ListingGrants int           // grants it lists in all
	SearchP95     time.Duration // per-request latency budget of the search flow
	JobTimeout    time.Duration // how long a scrape job may take
	// AIProviderURL is set only locally: the stand-in AI provider, whose
	// fault switch (/__faults) can make it fail on purpose.
	AIProviderURL string
}

// Backup says where checklist item 1 and Step 1.1 keep backups. Their
// freshness is Thresholds.BackupMaxAge.
type Backup struct {
	// Dir holds backup-YYYYMMDD-HHMMSS.dump files (0600) and their
	// manifests; relative paths are relative to the repository root.
	Dir string
	// ScratchURL, when set, is the server a backup is restored on to verify
	// it (so the restore does not load the production server); zero means
	// the database's own server.
	ScratchURL Secret
}

// Code is the application checkout checklist item 4 verifies.
type Code struct {
	Repo   string // path of the git checkout that will be deployed
	Remote string // default origin
	Branch string // default main
	// VersionFile, when set, is a file of the checkout that declares the
	// version (package.json's "version", or a plain file's content); it must
	// equal Version without the leading v.
	VersionFile string
}

// CI says where "All tests passing" reads the test status of a commit:
// StatusFile, a JSON document {"commit": "<sha>", "status": "passing"}
// written by the CI pipeline, or StatusCommand, a command printing that
// document, where the argument "{commit}" is replaced by the commit.
type CI struct {
	StatusFile    string
	StatusCommand []string
}

// Staging says where checklist item 5 reads what staging runs and how its
// smoke run went.
type Staging struct {
	// KubeContext: read the image tags of staging's deployments through
	// this kube context (Kube.Kubeconfig) in Namespace. Or DeployRecord: a
	// JSON record of the last staging deployment. Exactly one is set
	// (locally a fixture fills DeployRecord in).
	KubeContext  string
	Namespace    string
	DeployRecord string
	// SmokeRecord is the record of a staging smoke run; "{version}" is
	// replaced by the version (runs/staging-smoke-{version}.json).
	SmokeRecord string
	// RollbackRecord is the record of a rollback drill on staging of the
	// version (checklist item 6, "Rollback tested (on staging)");
	// "{version}" is replaced (runs/staging-rollback-{version}.json).
	RollbackRecord string
	// RollbackMaxAge: a drill older than this does not count (default 7
	// days).
	RollbackMaxAge time.Duration
}

// IsStaging reports whether the target is the cluster its staging section
// describes (kube.context equal to staging.kubeContext): the staging
// environment itself. There the prerequisites taken from staging for
// production (what staging runs, its smoke run, its rollback drill) are
// what the deployment produces, and a rollback's record is the staging
// drill record.
func (t *Target) IsStaging() bool {
	return t.Kube != nil && t.Staging.KubeContext != "" && t.Kube.Context == t.Staging.KubeContext
}

// SmokeRecordFor is SmokeRecord for one version.
func (s Staging) SmokeRecordFor(version string) string {
	return strings.ReplaceAll(s.SmokeRecord, "{version}", version)
}

// RollbackRecordFor is RollbackRecord for one version.
func (s Staging) RollbackRecordFor(version string) string {
	return strings.ReplaceAll(s.RollbackRecord, "{version}", version)
}

// Team says where checklist items 3 and 7 read who deploys and who
// confirmed what. "{version}" in a path is replaced by the version, so
// each deployment has its own roster and confirmations.
type Team struct {
	// Roster is the deployment's roster (YAML, internal/roster): the team
	// on the call, the communication channel, the video call, the
	// escalation contacts, the on-call shifts.
	Roster string
	// Acks is the JSON Lines file of the team's confirmations, written by
	// `runbook checklist ack -file <acks> ...`.
	Acks string
	// AckMaxAge: a confirmation older than this is not counted (default
	// 3h: the checklist starts 2 hours before the deployment).
	AckMaxAge time.Duration
}

// RosterFor is Roster for one version.
func (t Team) RosterFor(version string) string {
	return strings.ReplaceAll(t.Roster, "{version}", version)
}

// AcksFor is Acks for one version.
func (t Team) AcksFor(version string) string { return strings.ReplaceAll(t.Acks, "{version}", version) }

// HTTP bounds every request a check makes.
type HTTP struct {
	Timeout time.Duration // one request
	// InsecureTLS is only ever true locally (self-signed fixture certificates).
	InsecureTLS bool
	// RootCA is http.rootCA: a PEM file of the private CA that signs the
	// services' certificates (a company CA, the rehearsal's local CA);
	// empty means the system's roots only.
	RootCA string
	// RootCAs are the system's roots plus RootCA's certificates; nil when
	// RootCA is empty (the system's roots). Every HTTP client of the
	// runbook verifies against them.
	RootCAs *x509.CertPool
}

// Service returns the named service, or false.
func (t *Target) Service(name string) (Service, bool) {
	for _, s := range t.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// ServiceNames lists the services in deployment order.
func (t *Target) ServiceNames() []string {
	out := make([]string, len(t.Services))
	for i, s := range t.Services {
		out[i] = s.Name
	}
	return out
}

// Secrets returns every secret the target holds, for redaction.
func (t *Target) Secrets() []Secret {
	if t.secrets == nil {
		return nil
	}
	return append([]Secret(nil), t.secrets.list...)
}

type secretSet struct{ list []Secret }

func (s *secretSet) add(sec Secret) { s.list = append(s.list, sec) }
