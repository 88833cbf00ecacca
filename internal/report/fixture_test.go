package report_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/stats"
)

// planted is a secret the fixture lets through into the journal and the
// test output, as a buggy step would; the report must never show it.
const (
	planted        = "hunter22-planted-pw"
	plantedWebhook = "T0KEN-only-the-target-knows-9f8e"
)

// targetRedact stands for tgt.Redact: it knows the actual secret values.
func targetRedact(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, planted, "[REDACTED:RUNBOOK_PROD_DATABASE_URL]"), plantedWebhook, "[REDACTED:RUNBOOK_PROD_WEBHOOK_URL]")
}

// fixture builds a run folder as the deploy CLI and the gates would: a
// journal and go-test JSON per gate, on a fake clock starting at 14:00.
type fixture struct {
	t   *testing.T
	dir string
	j   *journal.Journal
	now time.Time
}

func newFixture(t *testing.T, env string) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "20260303-140000-"+env)
	j, err := journal.Open(dir, "20260303-140000-"+env, env, nil) // no redactor: secrets leak in on purpose
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return &fixture{t: t, dir: dir, j: j, now: time.Date(2026, 3, 3, 14, 0, 3, 0, time.UTC)}
}

// step journals one step that took d.
func (f *fixture) step(phase journal.Phase, step, action, status string, d time.Duration, data map[string]string, manual ...string) {
	f.t.Helper()
	e := journal.Entry{Phase: phase, Step: step, Action: action, Status: status, Started: f.now, Duration: d, Data: data}
	f.now = f.now.Add(d)
	e.Time = f.now
	if len(manual) > 0 {
		e.Manual = manual[0]
	}
	if status == journal.StatusFailed {
		e.Error = data["error"]
		delete(data, "error")
	}
	require.NoError(f.t, f.j.Add(e))
}

func (f *fixture) wait(d time.Duration) { f.now = f.now.Add(d) }

// goTest writes test2json events for one gate.
type goTest struct {
	f    *fixture
	pkg  string
	evs  []map[string]any
	fail bool
}

func (f *fixture) gate(pkg string) *goTest {
	g := &goTest{f: f, pkg: pkg}
	g.ev("start", "", "", 0)
	return g
}

func (g *goTest) ev(action, test, output string, elapsed float64) {
	e := map[string]any{"Time": g.f.now.Format(time.RFC3339Nano), "Action": action, "Package": g.pkg}
	if test != "" {
		e["Test"] = test
	}
	if output != "" {
		e["Output"] = output
	}
	if action == "pass" || action == "fail" || action == "skip" {
		e["Elapsed"] = elapsed
	}
	g.evs = append(g.evs, e)
}

// step is one subtest of a flow: status pass, fail or skip, and its lines.
type step struct {
	name, status string
	lines        []string
}

// flow writes a test with subtests, as flow.RunT does.
func (g *goTest) flow(name string, steps ...step) {
	g.ev("run", name, "", 0)
	g.ev("output", name, "=== RUN   "+name+"\n", 0)
	start := g.f.now
	failed := ""
	for _, s := range steps {
		full := name + "/" + s.name
		g.ev("run", full, "", 0)
		g.ev("output", full, "=== RUN   "+full+"\n", 0)
		g.f.wait(150 * time.Millisecond)
		for _, l := range s.lines {
			g.ev("output", full, "    runt.go:52: "+l+"\n", 0)
		}
		switch s.status {
		case "fail":
			failed = s.name
			g.ev("output", full, "--- FAIL: "+full+" (0.15s)\n", 0)
			g.ev("fail", full, "", 0.15)
		case "skip":
			g.ev("output", full, "--- SKIP: "+full+" (0.00s)\n", 0)
			g.ev("skip", full, "", 0)
		default:
			g.ev("output", full, "--- PASS: "+full+" (0.15s)\n", 0)
			g.ev("pass", full, "", 0.15)
		}
	}
	el := g.f.now.Sub(start).Seconds()
	if failed != "" {
		g.fail = true
		g.ev("output", name, fmt.Sprintf("    runt.go:80: flow FAILED at step %s\n", failed), 0)
		g.ev("output", name, fmt.Sprintf("--- FAIL: %s (%.2fs)\n", name, el), 0)
		g.ev("fail", name, "", el)
		return
	}
	g.ev("output", name, fmt.Sprintf("    runt.go:90: flow: %d steps passed\n", len(steps)), 0)
	g.ev("output", name, fmt.Sprintf("--- PASS: %s (%.2fs)\n", name, el), 0)
	g.ev("pass", name, "", el)
}

// test writes a test without subtests.
func (g *goTest) test(name, status string, lines ...string) {
	g.ev("run", name, "", 0)
	g.ev("output", name, "=== RUN   "+name+"\n", 0)
	g.f.wait(400 * time.Millisecond)
	for _, l := range lines {
		g.ev("output", name, "    check_test.go:31: "+l+"\n", 0)
	}
	if status == "fail" {
		g.fail = true
		g.ev("output", name, "--- FAIL: "+name+" (0.40s)\n", 0)
		g.ev("fail", name, "", 0.4)
		return
	}
	g.ev("output", name, "--- PASS: "+name+" (0.40s)\n", 0)
	g.ev("pass", name, "", 0.4)
}

// write ends the package and writes <gate>.json.
func (g *goTest) write(gate string) {
	g.f.t.Helper()
	if g.fail {
		g.ev("output", "", "FAIL\n", 0)
		g.ev("fail", "", "", 1)
	} else {
		g.ev("output", "", "PASS\n", 0)
		g.ev("pass", "", "", 1)
	}
	var b strings.Builder
	for _, e := range g.evs {
		line, err := json.Marshal(e)
		require.NoError(g.f.t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	require.NoError(g.f.t, os.WriteFile(filepath.Join(g.f.dir, gate+".json"), []byte(b.String()), 0o644))
}

// options of a fixture run.
type runOpts struct {
	searchFails           bool // TestSearch/filter_category fails
	iaOutageNotApplicable bool
	skipIAOutage          bool   // TestIA/fallback_when_provider_fails skipped
	stopAfter             string // "phase4": the deploy CLI stopped at the failed gate
	noMonitor             bool
	errorRate             string
	p95                   string
	phase3Overrun         bool
	watched               string // the watch's monitor.window (default 4h0m0s)
	rehearsal             bool   // the watch entry says monitor.rehearsal=true
}

const api = "https://api.granter.example.com"

// run writes a whole deployment: journal phases 1-4 and the watch, and the
// smoke, postdeploy and monitor gates.
func (f *fixture) run(o runOpts) string {
	f.t.Helper()
	f.step("", "start", "deploy v2.0.0 to prod", journal.StatusOK, 0, map[string]string{
		journal.KeyVersion: "v2.0.0", journal.KeyPrevious: "v1.9.0", "services": "backend-core,data-service,web-frontend"})

	f.step("phase1", "1.1", "final database backup", journal.StatusOK, 4*time.Minute+10*time.Second, map[string]string{
		"file": "runs/20260303-140000-prod/backup-20260303-140003.dump", "sha256": "9c1f…e2", "size": "41203311",
		"dsn": "postgres://granter:" + planted + "@db.internal:5432/granter_db"},
		"docker exec postgres pg_dump -U granter granter_db > backup-$(date +%Y%m%d-%H%M%S).sql")
	f.step("phase1", "1.2", "notify operations team", journal.StatusOK, 40*time.Second, map[string]string{
		"message": "Starting production deployment at 14:15", "webhook": "https://hooks.example.com/services/" + plantedWebhook})
	f.step("phase1", "1.3", "drain backend-core: scale to 0", journal.StatusOK, 35*time.Second, map[string]string{journal.KeyReplicasBefore: "3"},
		"kubectl scale deployment/backend-core --replicas=0")
	f.step("phase1", "1.4", "verify no active connections", journal.StatusOK, 5*time.Second, map[string]string{"connections": "0"})
	f.wait(5 * time.Minute)

	six := "20260127000050,20260127000100,20260127000200,20260127000300,20260127000400,20260128001000"
	f.step("phase2", "2.1", "run pending migrations", journal.StatusOK, 2*time.Minute, map[string]string{journal.KeyMigrationsNew: six},
		"npm run migration:run -- --env=production")
	f.step("phase2", "2.2", "verify migration success", journal.StatusOK, 10*time.Second, map[string]string{
		journal.KeyMigrationsApplied: "20251201000000," + six, journal.KeyMigrationsExpected: six}, "npm run migration:status")
	f.step("phase2", "2.3", "test database connection", journal.StatusOK, 3*time.Second, nil, "npm run db:health-check")
	f.wait(6 * time.Minute)

	slow := time.Duration(0)
	if o.phase3Overrun {
		slow = 6 * time.Minute
	}
	for i, svc := range []string{"backend-core", "data-service", "web-frontend"} {
		set := []string{"3.1", "3.4", "3.5"}[i]
		f.step("phase3", set, "set image of "+svc, journal.StatusOK, 5*time.Second, map[string]string{
			journal.KeyDeployment: svc, journal.KeyImageBefore: "granter/" + svc + ":v1.9.0", journal.KeyImageAfter: "granter/" + svc + ":v2.0.0"},
			"kubectl set image deployment/"+svc+" "+svc+"=granter/"+svc+":v2.0.0")
		f.step("phase3", set, "wait for the rollout of "+svc, journal.StatusOK, 2*time.Minute+slow, map[string]string{
			journal.KeyDeployment: svc, journal.KeyRollout: "complete", "ready": "3/3"}, "kubectl rollout status deployment/"+svc+" --timeout=5m")
		if svc == "backend-core" {
			f.step("phase3", "3.3", "verify backend health", journal.StatusOK, 2*time.Second, map[string]string{
				"url": "http://backend-core.granter:3001/health", "status": "200", "body": `{"status":"healthy","services":{"database":"up","api":"up"}}`},
				"curl http://backend:3001/health")
		}
	}
	f.wait(time.Minute)

	// Step 4.1: the smoke gate.
	smoke := f.gate("github.com/granter/runbook/smoke")
	smoke.flow("TestAuth",
		step{"register", "pass", []string{"did POST " + api + "/auth/register; saw 201, user smoke-7f3a"}},
		step{"login", "pass", []string{"did POST " + api + "/auth/login as smoke-7f3a with password " + planted + "; saw 200, bearer token (3 parts)"}},
		step{"me", "pass", []string{"did GET " + api + "/auth/me; saw 200, email smoke-7f3a@example.com"}},
		step{"delete", "pass", []string{"did DELETE " + api + "/auth/me; saw 204"}})
	filter := step{"filter_category", "pass", []string{"did GET " + api + "/search?category=research; saw 200, 5 results, all research"}}
	pages := step{"pages_consistent", "pass", []string{"did GET pages 1-3 of " + api + "/search?query=grant&limit=5; saw 15 distinct results"}}
	if o.searchFails {
		filter = step{"filter_category", "fail", []string{"did GET " + api + "/search?category=research; saw 200, 5 results",
			"FAILED: GET " + api + "/search?category=research: result 3 has category culture, want research"}}
		pages = step{"pages_consistent", "skip", []string{"NOT RUN: step \"filter_category\" failed before it, so this step proves nothing"}}
	}
	smoke.flow("TestSearch",
		step{"query", "pass", []string{"did GET " + api + "/search?query=test; saw 200, 12 results"}},
		filter, pages)
	smoke.flow("TestScraper",
		step{"start_job", "pass", []string{"did POST https://data.granter.example.com/scrape; saw 202, job 51"}},
		step{"every_page_fetched", "pass", []string{"did GET /scrape/jobs/51; saw 3/3 pages"}})
	outage := step{"fallback_when_provider_fails", "pass", []string{"did POST /extract with the provider failing; saw 200 source=fallback"}}
	if o.iaOutageNotApplicable {
		outage = step{"fallback_when_provider_fails", "skip", []string{"NOT APPLICABLE on prod (declared in environments/prod.yaml): no outage switch; verified elsewhere: make rehearse (the step said: no switch)"}}
	}
	if o.skipIAOutage {
		outage = step{"fallback_when_provider_fails", "skip", []string{"SKIPPED, not passed: the target has no switch to make the AI provider fail"}}
	}
	smoke.flow("TestIA",
		step{"extract_ai", "pass", []string{"did POST /extract; saw 200 source=ai, 7 fields"}}, outage)
	smoke.flow("TestHealth",
		step{"backend-core", "pass", []string{"did GET " + api + "/health; saw 200 {\"status\":\"healthy\"}"}},
		step{"data-service", "pass", []string{"did GET https://data.granter.example.com/health; saw 200"}},
		step{"web-frontend", "pass", []string{"did GET https://granter.example.com/health; saw 200"}})
	smoke.write("smoke")
	if o.searchFails {
		f.step("phase4", "4.1", "run smoke tests", journal.StatusFailed, 4*time.Second, map[string]string{
			"error": "smoke: TestSearch/filter_category: GET " + api + "/search?category=research: result 3 has category culture, want research"},
			"npm run test:smoke")
	} else {
		f.step("phase4", "4.1", "run smoke tests", journal.StatusOK, 4*time.Second, nil, "npm run test:smoke")
	}
	if o.stopAfter == "phase4" {
		return f.dir
	}

	rate := orDefault(o.errorRate, "0.0002")
	f.step("phase4", "4.2", "check logs for errors", journal.StatusOK, 20*time.Second, map[string]string{
		"log.errors": "0", journal.KeySQLErrors: "0", journal.KeyLogsQuery: "kubectl logs -l app=backend-core --since=15m | grep ERROR"},
		"kubectl logs -l app=backend-core --tail=50 | grep ERROR")
	f.step("phase4", "4.3", "verify health checks", journal.StatusOK, 3*time.Second, map[string]string{"url": api + "/health", "status": "200"},
		"curl http://api.example.com/health")
	f.step("phase4", "4.4", "spot check critical endpoints", journal.StatusOK, 3*time.Second, map[string]string{
		"endpoints": "GET /auth/me 200; GET /search?query=test 200; GET /health 200"})
	status := journal.StatusOK
	data := rateData(rate)
	data[journal.KeyErrorRateWindow] = "5m"
	data[journal.KeyErrorRateQuery] = `sum(rate(http_requests_total{status=~"5..",namespace="granter"}[5m])) / sum(rate(http_requests_total{namespace="granter"}[5m]))`
	data[journal.KeyAlertsCritical], data[journal.KeyAlertsQuery] = "0", `ALERTS{alertstate="firing",severity="critical"}`
	if r, _ := strconvRatio(rate); r >= 0.001 {
		status = journal.StatusFailed
		data["error"] = "error rate " + rate + " >= 0.1%"
	}
	f.step("phase4", "4.5", "monitor error rate", status, 5*time.Minute, data)

	post := f.gate("github.com/granter/runbook/postdeploy")
	post.test("TestLogs", "pass", "kubectl logs -l app=backend-core --since=15m: 0 ERROR lines in 1840 lines")
	post.test("TestHealthChecks", "pass", "GET https://granter.example.com/health: 200", "GET "+api+"/health: 200")
	post.test("TestCriticalEndpoints", "pass", "GET "+api+"/auth/me with a bearer token: 200 user data", "GET "+api+"/search?query=test: 200, 12 results")
	rateTest := "pass"
	if status == journal.StatusFailed {
		rateTest = "fail"
	}
	post.test("TestErrorRate", rateTest, "error rate "+rate+" (query: sum(rate(http_requests_total{status=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])), window 5m, 1204 requests), want < 0.1%")
	post.test("TestNoCriticalAlerts", "pass", "0 critical alerts firing (query: ALERTS{severity=\"critical\"})")
	post.test("TestNoSQLErrors", "pass", "0 SQL errors in 1840 log lines of backend-core, data-service")
	post.write("postdeploy")
	if o.noMonitor {
		return f.dir
	}

	f.wait(2 * time.Minute)
	p95 := orDefault(o.p95, "120ms")
	for i, every := range []time.Duration{30 * time.Minute, 30 * time.Minute, time.Hour, time.Hour, time.Hour} {
		st := journal.StatusOK
		d := map[string]string{"p95": p95, "p95.threshold": "200ms", "cpu": "38%", "cpu.threshold": "70%",
			"connections": "42", "connections.threshold": "100", journal.KeyAlertsCritical: "0", journal.KeySQLErrors: "0"}
		maps.Copy(d, rateData("0.0003"))
		if p95 != "120ms" && i == 1 {
			st, d["error"] = journal.StatusFailed, "p95 "+p95+" >= 200ms"
		}
		f.step("monitor", fmt.Sprintf("round %d", i+1), "watch metrics", st, every-time.Minute, d)
		f.wait(time.Minute)
	}
	watch := map[string]string{journal.KeyMonitorWindow: orDefault(o.watched, "4h0m0s"), "monitor.rounds": "5"}
	if o.rehearsal {
		watch[journal.KeyMonitorRehearsal] = "true"
	}
	f.step("monitor", "watch", "watch finished: metrics stable", journal.StatusOK, time.Second, watch)
	return f.dir
}

// fixtureRequests is how many requests every error-rate entry of the
// fixture counted: enough for 0.02% to be shown under 0.1%.
const fixtureRequests = 10000

// rateData is the error-rate evidence a gate journals for a ratio ("0.0002",
// "0.52%") over fixtureRequests requests.
func rateData(rate string) map[string]string {
	v, err := strconvRatio(rate)
	if err != nil {
		panic(err)
	}
	return journal.RateData(stats.UnderThreshold(math.Round(v*fixtureRequests), fixtureRequests, 0.001))
}

func strconvRatio(s string) (float64, error) {
	var v float64
	if strings.HasSuffix(s, "%") {
		_, err := fmt.Sscanf(strings.TrimSuffix(s, "%"), "%g", &v)
		return v / 100, err
	}
	_, err := fmt.Sscanf(s, "%g", &v)
	return v, err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
