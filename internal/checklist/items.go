package checklist

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/target"
)

// Item is one numbered item of the checklist.
type Item struct {
	Number int
	Title  string // "Database Backup", as the runbook writes it
	// Test is the name of the test that runs the item in ./preflight and in
	// the item's own package: Test + Title without spaces or "&".
	Test string
	// Subs are its sub-items in runbook order and wording; each is a step
	// of the item's flow and a subtest (spaces become underscores).
	Subs []string
	// Package is the folder under preflight/ that implements the item.
	Package string
}

// Items is the checklist of runbook-source.md, in order. The wording of
// the sub-items is the runbook's, except "Backup time: ___________" which
// is "Backup time" (the check fills the blank in).
var Items = []Item{
	{1, "Database Backup", "TestDatabaseBackup",
		[]string{"Full backup taken", "Backup verified & downloadable", "Backup time"}, "backup"},
	{2, "Infrastructure Check", "TestInfrastructureCheck",
		[]string{"All services healthy", "Monitoring enabled", "Logging operational", "Alerts configured"}, "infra"},
	{3, "Team Coordination", "TestTeamCoordination",
		[]string{"All team members online", "Video call active", "Communication channel ready", "Escalation contacts confirmed"}, "team"},
	{4, "Final Code Verification", "TestFinalCodeVerification",
		[]string{"Latest code pulled", "All tests passing", "No uncommitted changes", "Version tag ready"}, "code"},
	{5, "Environment Validation", "TestEnvironmentValidation",
		[]string{"Staging deployment successful", "Staging smoke tests passed", "Production secrets ready", "Database migration scripts ready"}, "envcheck"},
	{6, "Rollback Preparation", "TestRollbackPreparation",
		[]string{"Rollback scripts prepared", "Previous version identified", "Rollback tested (on staging)", "Estimated rollback time: 15 minutes"}, "rollbackprep"},
	{7, "Monitoring & Alerting", "TestMonitoringAndAlerting",
		[]string{"Dashboards prepared", "Alert thresholds set", "On-call staff ready", "Error rate baseline established"}, "monitoring"},
	{8, "Load Balancer Check", "TestLoadBalancerCheck",
		[]string{"Configuration validated", "Health check settings correct", "Routing rules configured", "TLS certificates valid"}, "loadbalancer"},
}

// ItemN returns item n (1..8); it panics on any other number.
func ItemN(n int) Item {
	if n < 1 || n > len(Items) {
		panic(fmt.Sprintf("checklist: no item %d (the runbook has 1..%d)", n, len(Items)))
	}
	return Items[n-1]
}

// Label is "1. Database Backup".
func (it Item) Label() string { return fmt.Sprintf("%d. %s", it.Number, it.Title) }

// SubtestName is the name go test gives the subtest of sub-item sub:
// spaces become underscores.
func SubtestName(sub string) string { return strings.ReplaceAll(sub, " ", "_") }

// Check proves one sub-item. It calls Evidence with what it saw and
// returns nil, or returns an error saying what was expected and what was
// seen (naming the file, the commit, the table...), or NotChecked.
type Check = func(ctx context.Context, r *flow.Recorder) error

// DefaultItemTimeout bounds one item's checks together, unless the item
// sets Flow.Timeout itself (the backup item does: a dump and a restore of
// a large database take longer).
const DefaultItemTimeout = 5 * time.Minute

// Flow builds checklist item n's flow from one Check per sub-item, keyed
// by the sub-item's runbook wording. The steps follow the runbook's order
// and are all Independent: each sub-item is checked and reported whatever
// happened to the others. Secrets of tgt are redacted from everything
// recorded and every error.
//
// Flow panics when checks do not cover the item's sub-items exactly (a
// missing, extra or misspelt one): that is a programming error that any
// run of the item's test shows at once.
func Flow(tgt *target.Target, n int, checks map[string]Check) flow.Flow {
	it := ItemN(n)
	var steps []flow.Step
	onStaging := tgt != nil && tgt.IsStaging()
	for _, sub := range it.Subs {
		c, ok := checks[sub]
		if !ok {
			panic(fmt.Sprintf("checklist: item %s has no check for sub-item %q", it.Label(), sub))
		}
		if onStaging && FromStaging(it.Test, sub) {
			c = func(context.Context, *flow.Recorder) error { return flow.Skip(onStagingReason) }
		}
		steps = append(steps, flow.Step{Name: sub, Run: c, Independent: true})
	}
	if len(checks) != len(it.Subs) {
		for name := range checks {
			if !contains(it.Subs, name) {
				panic(fmt.Sprintf("checklist: item %s has no sub-item %q (the runbook's are %q)", it.Label(), name, it.Subs))
			}
		}
	}
	f := flow.Flow{Name: it.Label(), Steps: steps, Timeout: DefaultItemTimeout}
	if tgt != nil {
		f.Redact = tgt.Redact
	}
	if onStaging {
		f.NotApplicable = func(step string) (string, bool) {
			if !FromStaging(it.Test, step) {
				return "", false
			}
			return fmt.Sprintf("%s: on %s, the staging cluster itself (kube.context %s = staging.kubeContext in %s): %s",
				flow.NotApplicableMark, tgt.Env, tgt.Kube.Context, tgt.File, onStagingWhere), true
		}
	}
	return f
}

// fromStaging are the sub-items that are prerequisites taken FROM staging
// for the production deployment (item test -> sub-items): what staging
// runs, its smoke run, the rollback drilled there.
var fromStaging = map[string][]string{
	"TestEnvironmentValidation": {"Staging deployment successful", "Staging smoke tests passed"},
	"TestRollbackPreparation":   {"Rollback tested (on staging)"},
}

// FromStaging reports whether sub-item sub of the item whose test is test
// is a prerequisite taken from staging. On the staging target itself
// (target.IsStaging) such a sub-item cannot hold before the deployment it
// is checking (staging would have to run the release before it is
// deployed there, its rollback drilled before it exists): it is NOT
// APPLICABLE there, shown so and never as done, and never a blocker. On
// every other target it is checked.
func FromStaging(test, sub string) bool {
	for _, s := range fromStaging[test] {
		if s == sub || SubtestName(s) == sub {
			return true
		}
	}
	return false
}

const (
	onStagingReason = "the staging deployment is the one being checked"
	onStagingWhere  = "the staging deployment, its smoke run and its rollback drill are what these prove for production; they are checked by make preflight ENV=prod"
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// EvidencePrefix marks the recorded lines the printed checklist shows
// beside a sub-item that is done.
const EvidencePrefix = "evidence: "

// Evidence records what proves the sub-item, in one line the checklist
// prints beside ✅ ("backup-20261126-130004.dump, 12.3 MB, 7 tables").
// Record the details with r.Logf; they are in the run's test output.
func Evidence(r *flow.Recorder, format string, args ...any) {
	r.Logf(EvidencePrefix+format, args...)
}

// NotChecked is what a check returns when it cannot check its sub-item
// because something another sub-item provides is missing ("no backup:
// Full backup taken failed"). The sub-item is shown ⚠ NOT CHECKED, never
// as done, and is a blocker.
func NotChecked(format string, args ...any) error {
	return flow.Skip("NOT CHECKED: "+format, args...)
}
