package target

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/granter/runbook/internal/phase4"
)

// prodEnv holds every secret environments/prod.yaml and staging.yaml name.
func prodEnv(drop ...string) Getenv {
	vals := map[string]string{
		"RUNBOOK_PROD_DATABASE_URL":    "postgres://granter:s3cret-prod-pw@db:5432/granter_db",
		"RUNBOOK_PROD_WEBHOOK_URL":     "https://hooks.example.com/T000/B000/xyzzy-token",
		"RUNBOOK_STAGING_DATABASE_URL": "postgres://granter:s3cret-stg-pw@db:5432/granter_db",
		"RUNBOOK_STAGING_WEBHOOK_URL":  "https://hooks.example.com/T000/B000/plugh-token",
	}
	for _, d := range drop {
		delete(vals, d)
	}
	return func(name string) (string, bool) { v, ok := vals[name]; return v, ok }
}

// withEnv adds one variable to getenv.
func withEnv(getenv Getenv, name, value string) Getenv {
	return func(n string) (string, bool) {
		if n == name {
			return value, true
		}
		return getenv(n)
	}
}

func readEnvFile(t *testing.T, env string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "environments", env+".yaml"))
	require.NoError(t, err)
	return data
}

func TestShippedEnvironmentsLoad(t *testing.T) {
	for _, env := range []string{"staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			tgt, err := Parse(readEnvFile(t, env), "environments/"+env+".yaml", prodEnv())
			require.NoError(t, err)
			assert.Equal(t, env, tgt.Env)
			assert.True(t, tgt.ReadOnly, "staging and prod must be read-only")
			assert.Equal(t, env, tgt.Confirm)
			names := []string{}
			for _, s := range tgt.Services {
				names = append(names, s.Name)
				assert.Regexp(t, `^https://`, s.URL)
				assert.Equal(t, "granter/"+s.Name, s.Image)
				assert.Equal(t, "/health", s.Health)
			}
			assert.Equal(t, []string{BackendCore, DataService, WebFrontend}, names)
			assert.Equal(t, 0.001, tgt.Thresholds.ErrorRate)
			assert.Equal(t, 0.01, tgt.Thresholds.RollbackErrorRate)
			assert.Equal(t, 200*time.Millisecond, tgt.Thresholds.APIP95)
			assert.Equal(t, 100*time.Millisecond, tgt.Thresholds.DBQuery)
			assert.InDelta(t, 0.70, tgt.Thresholds.CPU, 1e-9)
			assert.Equal(t, 100, tgt.Thresholds.ActiveConnections)
			assert.Equal(t, 5*time.Minute, tgt.Thresholds.RolloutTimeout)
			assert.Equal(t, 15*time.Minute, tgt.Thresholds.RollbackBudget)
			assert.Equal(t, []string{"20260127000050", "20260127000100", "20260127000200", "20260127000300", "20260127000400", "20260128001000"}, tgt.Migrations.Expected)
			require.NotNil(t, tgt.Kube)
			assert.Equal(t, "granter", tgt.Kube.Namespace)
			require.NotNil(t, tgt.Database)
			assert.False(t, tgt.Database.URL.IsZero())
		})
	}
	t.Run("local", func(t *testing.T) {
		tgt, err := Parse(readEnvFile(t, "local"), "environments/local.yaml", func(string) (string, bool) { return "", false })
		require.NoError(t, err)
		assert.False(t, tgt.ReadOnly)
		assert.Empty(t, tgt.Confirm)
		assert.Len(t, tgt.Services, 3)
	})
}

// Each broken setting gives exactly one line that names the setting and the file.
func TestBadSettingNamesItself(t *testing.T) {
	prod := string(readEnvFile(t, "prod"))
	cases := []struct {
		name   string
		yaml   string
		getenv Getenv
		want   []string
	}{
		{"unknown key", strings.Replace(prod, "readOnly: true", "readOnly: true\nreadonly: false", 1), prodEnv(),
			[]string{"environments/prod.yaml: readonly: unknown key"}},
		{"unknown key in a list", strings.Replace(prod, "    image: granter/data-service", "    image: granter/data-service\n    replicas: 3", 1), prodEnv(),
			[]string{"environments/prod.yaml: services[1].replicas: unknown key"}},
		{"missing webhook secret", prod, prodEnv("RUNBOOK_PROD_WEBHOOK_URL"),
			[]string{"webhook.urlEnv", "RUNBOOK_PROD_WEBHOOK_URL is not set"}},
		{"unknown nested key", strings.Replace(prod, "  apiP95: 200ms", "  apiP95: 200ms\n  apiP59: 200ms", 1), prodEnv(),
			[]string{"environments/prod.yaml: thresholds.apiP59: unknown key"}},
		{"missing secret variable", prod, prodEnv("RUNBOOK_PROD_DATABASE_URL"),
			[]string{"environments/prod.yaml", "database.urlEnv", "RUNBOOK_PROD_DATABASE_URL is not set"}},
		{"malformed URL", strings.Replace(prod, "url: https://api.example.com", "url: api.example.com:443/x", 1), prodEnv(),
			[]string{"environments/prod.yaml", "services[0].url", `malformed URL "api.example.com:443/x"`}},
		{"malformed duration", strings.Replace(prod, "apiP95: 200ms", "apiP95: fast", 1), prodEnv(),
			[]string{"environments/prod.yaml", "thresholds.apiP95", `want a duration such as "200ms" or "5m", got "fast"`}},
		{"malformed percentage", strings.Replace(prod, `errorRate: "0.1%"`, `errorRate: 0.1`, 1), prodEnv(),
			[]string{"environments/prod.yaml", "thresholds.errorRate", `want a percentage such as "0.1%", got "0.1"`}},
		{"missing threshold", strings.Replace(prod, "  tlsMinDays: 14", "", 1), prodEnv(),
			[]string{"environments/prod.yaml", "thresholds.tlsMinDays", "missing"}},
		{"bad migration id", strings.Replace(prod, `"20260128001000"`, `"2026-01-28"`, 1), prodEnv(),
			[]string{"environments/prod.yaml", "migrations.expected[5]", "14-digit"}},
		{"image with tag", strings.Replace(prod, "image: granter/backend-core", "image: granter/backend-core:v2.0.0", 1), prodEnv(),
			[]string{"environments/prod.yaml", "services[0].image", "has a tag"}},
		{"missing service", strings.Replace(prod, "  - name: web-frontend\n", "  - name: web-frontendd\n", 1), prodEnv(),
			[]string{"environments/prod.yaml", "services", `"web-frontend" missing`}},
		{"insecure TLS outside local", strings.Replace(prod, "  timeout: 10s", "  timeout: 10s\n  insecureTLS: true", 1), prodEnv(),
			[]string{"environments/prod.yaml", "http.insecureTLS"}},
		// Checklist items 1, 4 and 5.
		{"missing backup dir", strings.Replace(prod, "  dir: /var/backups/granter\n", "", 1), prodEnv(),
			[]string{"environments/prod.yaml", "backup.dir", "missing"}},
		{"scratch server secret not set", strings.Replace(prod, "  dir: /var/backups/granter\n", "  dir: /var/backups/granter\n  scratchURLEnv: RUNBOOK_PROD_SCRATCH_URL\n", 1), prodEnv(),
			[]string{"environments/prod.yaml", "backup.scratchURLEnv", "RUNBOOK_PROD_SCRATCH_URL is not set"}},
		{"missing checkout", regexp.MustCompile(`(?m)^  repo: .*\n`).ReplaceAllString(prod, ""), prodEnv(),
			[]string{"environments/prod.yaml", "code.repo", "missing"}},
		{"version file outside the checkout", strings.Replace(prod, "versionFile: package.json", "versionFile: ../package.json", 1), prodEnv(),
			[]string{"environments/prod.yaml", "code.versionFile", "inside the checkout"}},
		{"test status from two sources", strings.Replace(prod, "ci:\n", "ci:\n  statusFile: ci/status.json\n", 1), prodEnv(),
			[]string{"environments/prod.yaml", "ci: set statusFile or statusCommand, not both"}},
		{"no test status source", regexp.MustCompile(`(?m)^  statusCommand: .*\n`).ReplaceAllString(prod, ""), prodEnv(),
			[]string{"environments/prod.yaml", "ci: missing statusFile or statusCommand"}},
		{"staging from two sources", strings.Replace(prod, "  kubeContext: granter-staging", "  kubeContext: granter-staging\n  deployRecord: runs/staging-deploy.json", 1), prodEnv(),
			[]string{"environments/prod.yaml", "staging: set kubeContext or deployRecord, not both"}},
		{"no staging source", strings.Replace(prod, "  kubeContext: granter-staging\n", "", 1), prodEnv(),
			[]string{"environments/prod.yaml", "staging: missing kubeContext or deployRecord"}},
		{"undeclarable step not applicable", strings.Replace(prod, "  - step: TestIA/fallback_when_provider_fails", "  - step: TestAuth/login", 1), prodEnv(),
			[]string{"environments/prod.yaml", "notApplicable[0].step", `"TestAuth/login" cannot be declared not applicable`}},
		{"not applicable without reason", regexp.MustCompile(`(?m)^    reason: .*\n`).ReplaceAllString(prod, ""), prodEnv(),
			[]string{"environments/prod.yaml", "notApplicable[0].reason", "missing"}},
		{"not applicable without where else", regexp.MustCompile(`(?m)^    verifiedElsewhere: .*\n`).ReplaceAllString(prod, ""), prodEnv(),
			[]string{"environments/prod.yaml", "notApplicable[0].verifiedElsewhere", "missing"}},
		{"database URL names another database", prod, withEnv(prodEnv(), "RUNBOOK_PROD_DATABASE_URL", "postgres://granter:s3cret-prod-pw@db:5432/granter_staging"),
			[]string{"environments/prod.yaml", "database.urlEnv", `RUNBOOK_PROD_DATABASE_URL: the URL points at database "granter_staging", but database.name is "granter_db": the migrations would run against granter_staging while the backup protects granter_db`}},
		{"database URL names no database", prod, withEnv(prodEnv(), "RUNBOOK_PROD_DATABASE_URL", "postgres://granter:s3cret-prod-pw@db:5432"),
			[]string{"environments/prod.yaml", "database.urlEnv", "the URL names no database"}},
		{"no staging smoke record", strings.Replace(prod, "  smokeRecord: runs/staging-smoke-{version}.json\n", "", 1), prodEnv(),
			[]string{"environments/prod.yaml", "staging.smokeRecord", "missing"}},
		{"malformed release version", prod, withEnv(prodEnv(), "RUNBOOK_VERSION", "2.0"),
			[]string{"environments/prod.yaml", "RUNBOOK_VERSION", `"2.0" is not a release version such as v2.0.0`}},
		// Checklist items 2, 3, 6, 7 and 8.
		{"no roster", strings.Replace(prod, "  roster: runs/roster-{version}.yaml\n", "", 1), prodEnv(),
			[]string{"environments/prod.yaml", "team.roster", "missing"}},
		{"no acks file", strings.Replace(prod, "  acks: runs/acks-{version}.jsonl\n", "", 1), prodEnv(),
			[]string{"environments/prod.yaml", "team.acks", "missing"}},
		{"malformed ack age", strings.Replace(prod, "ackMaxAge: 3h", "ackMaxAge: 3 hours", 1), prodEnv(),
			[]string{"environments/prod.yaml", "team.ackMaxAge", `got "3 hours"`}},
		{"no rollback drill record", strings.Replace(prod, "  rollbackRecord: runs/staging-rollback-{version}.json\n", "", 1), prodEnv(),
			[]string{"environments/prod.yaml", "staging.rollbackRecord", "missing"}},
		{"TLS endpoint for a host not checked", strings.Replace(prod, "  tlsHosts: [api.example.com, frontend.example.com]\n",
			"  tlsHosts: [api.example.com, frontend.example.com]\n  tlsEndpoints: {www.example.com: \"lb.example.com:443\"}\n", 1), prodEnv(),
			[]string{"environments/prod.yaml", "kube.tlsEndpoints.www.example.com", "not one of kube.tlsHosts"}},
		{"malformed TLS endpoint", strings.Replace(prod, "  tlsHosts: [api.example.com, frontend.example.com]\n",
			"  tlsHosts: [api.example.com, frontend.example.com]\n  tlsEndpoints: {api.example.com: \"lb.example.com\"}\n", 1), prodEnv(),
			[]string{"environments/prod.yaml", "kube.tlsEndpoints.api.example.com", `"lb.example.com" is not a host:port`}},
		{"TLS root CA file missing", strings.Replace(prod, "  tlsHosts: [api.example.com, frontend.example.com]\n",
			"  tlsHosts: [api.example.com, frontend.example.com]\n  tlsRootCA: /no/such/ca.pem\n", 1), prodEnv(),
			[]string{"environments/prod.yaml", "kube.tlsRootCA", "/no/such/ca.pem"}},
		{"malformed log window", strings.Replace(prod, "logWindow: 5m", "logWindow: five", 1), prodEnv(),
			[]string{"environments/prod.yaml", "thresholds.logWindow", `got "five"`}},
		{"key in another case", strings.Replace(prod, "  apiP95: 200ms", "  ApiP95: 200ms", 1), prodEnv(),
			[]string{"environments/prod.yaml: thresholds.ApiP95: unknown key"}},
		{"key given twice", strings.Replace(prod, "  apiP95: 200ms", "  apiP95: 200ms\n  apiP95: 300ms", 1), prodEnv(),
			[]string{"environments/prod.yaml: (yaml): ", `"apiP95" already set`}},
		{"wrong type", strings.Replace(prod, "  tlsMinDays: 14", "  tlsMinDays: [14]", 1), prodEnv(),
			[]string{"environments/prod.yaml: thresholds.tlsMinDays: want a number, got array"}},
		{"not YAML", prod + "\n\tbroken: [", prodEnv(),
			[]string{"environments/prod.yaml: (yaml): "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "environments/prod.yaml", c.getenv)
			require.Error(t, err)
			msg := err.Error()
			assert.NotContains(t, msg, "\n", "one problem must give one line")
			for _, w := range c.want {
				assert.Contains(t, msg, w)
			}
			assert.NotContains(t, msg, "s3cret", "a configuration error never prints a secret")
		})
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	tgt, err := Parse(readEnvFile(t, "prod"), "environments/prod.yaml", prodEnv())
	require.NoError(t, err)
	pw := "s3cret-prod-pw"
	for _, out := range []string{
		fmt.Sprint(tgt.Database.URL), fmt.Sprintf("%v %+v %#v %s %q", tgt.Database, tgt.Database, tgt.Database, tgt.Database.URL, tgt.Database.URL),
		fmt.Sprintf("%+v", *tgt),
	} {
		assert.NotContains(t, out, pw)
		assert.NotContains(t, out, "xyzzy-token")
	}
	js, err := json.Marshal(tgt)
	require.NoError(t, err)
	assert.NotContains(t, string(js), pw)
	assert.Equal(t, "dial [REDACTED:RUNBOOK_PROD_DATABASE_URL] failed", tgt.Redact("dial "+tgt.Database.URL.Reveal()+" failed"))
	// A driver error may quote the password alone: it is redacted too.
	assert.Equal(t, "password [REDACTED:RUNBOOK_PROD_DATABASE_URL] rejected", tgt.Redact("password "+pw+" rejected"))
	assert.Equal(t, "token [REDACTED:RUNBOOK_PROD_WEBHOOK_URL] sent", tgt.Redact("token "+tgt.Webhook.URL.Reveal()+" sent"))
}

func TestAttachLocalEndpoints(t *testing.T) {
	tgt, err := Parse(readEnvFile(t, "local"), "environments/local.yaml", func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	tgt.Attach(LocalEndpoints{
		Services:    map[string]string{BackendCore: "http://127.0.0.1:4001"},
		DatabaseURL: "postgres://granter:localpw123@127.0.0.1:5432/granter_db",
	})
	s, ok := tgt.Service(BackendCore)
	require.True(t, ok)
	assert.Equal(t, "http://127.0.0.1:4001", s.URL)
	assert.Equal(t, "url [REDACTED:RUNBOOK_LOCAL_DATABASE_URL]", "url "+tgt.Redact(tgt.Database.URL.Reveal()))
	assert.Equal(t, "pw [REDACTED:RUNBOOK_LOCAL_DATABASE_URL]", tgt.Redact("pw localpw123"))
}

// The settings of checklist items 1, 4 and 5, as shipped.
func TestChecklistSettings(t *testing.T) {
	tgt, err := Parse(readEnvFile(t, "prod"), "/repo/environments/prod.yaml", withEnv(prodEnv(), "RUNBOOK_VERSION", "v2.0.0"))
	require.NoError(t, err)
	assert.Equal(t, "v2.0.0", tgt.Version)
	assert.Equal(t, "/var/backups/granter", tgt.Backup.Dir)
	assert.True(t, tgt.Backup.ScratchURL.IsZero(), "verification restores on the database's own server unless told otherwise")
	assert.Equal(t, 2*time.Hour, tgt.Thresholds.BackupMaxAge)
	assert.Equal(t, Code{Repo: "/srv/granter", Remote: "origin", Branch: "main", VersionFile: "package.json"}, tgt.Code)
	assert.Empty(t, tgt.CI.StatusFile)
	assert.Contains(t, tgt.CI.StatusCommand, "repos/{owner}/{repo}/commits/{commit}/status")
	assert.Equal(t, "granter-staging", tgt.Staging.KubeContext)
	assert.Equal(t, "granter", tgt.Staging.Namespace, "defaults to kube.namespace")
	assert.Equal(t, "/repo/runs/staging-smoke-v2.0.0.json", tgt.Staging.SmokeRecordFor("v2.0.0"), "relative to the repository root")
	// Items 2, 3, 6, 7 and 8.
	assert.Equal(t, "/repo/runs/staging-rollback-v2.0.0.json", tgt.Staging.RollbackRecordFor("v2.0.0"))
	assert.Equal(t, 7*24*time.Hour, tgt.Staging.RollbackMaxAge)
	assert.Equal(t, "/repo/runs/roster-v2.0.0.yaml", tgt.Team.RosterFor("v2.0.0"))
	assert.Equal(t, "/repo/runs/acks-v2.0.0.jsonl", tgt.Team.AcksFor("v2.0.0"))
	assert.Equal(t, 3*time.Hour, tgt.Team.AckMaxAge)
	assert.Equal(t, 5*time.Minute, tgt.Thresholds.LogWindow)
	assert.Equal(t, time.Hour, tgt.Thresholds.BaselineWindow)
	assert.Equal(t, 14, tgt.Thresholds.TLSMinDays)
	assert.Empty(t, tgt.Kube.TLSEndpoints, "prod connects to <host>:443")
	assert.Empty(t, tgt.Kube.TLSRootCA, "prod verifies against the system's roots")
	assert.Len(t, tgt.Prometheus.Dashboards, 2)

	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600))
	withLB := strings.Replace(string(readEnvFile(t, "prod")), "  tlsHosts: [api.example.com, frontend.example.com]\n",
		"  tlsHosts: [api.example.com, frontend.example.com]\n  tlsEndpoints: {api.example.com: \"10.0.0.7:8443\"}\n  tlsRootCA: "+ca+"\n", 1)
	lb, err := Parse([]byte(withLB), "/repo/environments/prod.yaml", prodEnv())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"api.example.com": "10.0.0.7:8443"}, lb.Kube.TLSEndpoints)
	assert.Equal(t, ca, lb.Kube.TLSRootCA)

	local, err := Parse(readEnvFile(t, "local"), "/repo/environments/local.yaml", func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	assert.Equal(t, "/repo/.runbook/backups", local.Backup.Dir)
	assert.Empty(t, local.Code.Repo, "a fixture fills the local checkout in")
	assert.Empty(t, local.Team.Roster, "a fixture writes the local roster")
	assert.Equal(t, 3*time.Hour, local.Team.AckMaxAge)
	assert.Empty(t, local.Version)
}

// Staging and prod declare the IA provider outage not applicable, with the
// reason and where it is verified instead; the local target runs it.
// http.rootCA names the private CA of the services' certificates: a file
// that is missing or holds no certificate is a configuration error naming
// the setting.
func TestHTTPRootCA(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing.pem"), "no such file"},
		{notPEM, "holds no PEM certificate"},
	} {
		data := []byte(strings.Replace(string(readEnvFile(t, "prod")), "http:\n  timeout: 10s", "http:\n  timeout: 10s\n  rootCA: "+tc.path, 1))
		_, err := Parse(data, "environments/prod.yaml", prodEnv())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "http.rootCA")
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestNotApplicableDeclared(t *testing.T) {
	for _, env := range []string{"staging", "prod"} {
		tgt, err := Parse(readEnvFile(t, env), "environments/"+env+".yaml", prodEnv())
		require.NoError(t, err)
		n, ok := tgt.NotApplicableStep("TestIA/fallback_when_provider_fails")
		require.True(t, ok, env)
		assert.Contains(t, n.String(), "NOT APPLICABLE on "+env+" (declared in environments/"+env+".yaml)")
		assert.Contains(t, n.String(), "verified elsewhere: the local platform")
		_, ok = tgt.NotApplicableStep("TestAuth/login")
		assert.False(t, ok)
	}
}

// Every shipped file names a browser; a file without one declares the
// browser step not applicable (never passed), and a bad browser section
// names its setting.
func TestBrowser(t *testing.T) {
	for _, env := range []string{"staging", "prod"} {
		tgt, err := Parse(readEnvFile(t, env), "environments/"+env+".yaml", prodEnv())
		require.NoError(t, err)
		require.NotNil(t, tgt.Browser, env)
		assert.Equal(t, "chromium", tgt.Browser.Path)
		assert.Equal(t, 30*time.Second, tgt.Browser.Timeout)
		_, ok := tgt.NotApplicableStep(phase4.FrontendInBrowser)
		assert.False(t, ok, "%s names a browser: the step applies", env)
	}
	prod := string(readEnvFile(t, "prod"))
	without := regexp.MustCompile(`(?m)^browser:\n(  .*\n)+`).ReplaceAllString(prod, "")
	require.NotEqual(t, prod, without)
	tgt, err := Parse([]byte(without), "environments/prod.yaml", prodEnv())
	require.NoError(t, err)
	assert.Nil(t, tgt.Browser)
	n, ok := tgt.NotApplicableStep(phase4.FrontendInBrowser)
	require.True(t, ok, "a file without a browser must declare the browser step not applicable")
	assert.Contains(t, n.String(), "NOT APPLICABLE on prod (declared in environments/prod.yaml): the file names no browser (browser.path)")

	for _, c := range []struct{ name, section, want string }{
		{"no path", "browser:\n  timeout: 30s\n", "browser.path: missing"},
		{"relative path", "browser:\n  path: bin/chromium\n", `browser.path: "bin/chromium": want a command on PATH (chromium) or an absolute path`},
		{"bad timeout", "browser:\n  path: chromium\n  timeout: soon\n", "browser.timeout"},
		{"unknown key", "browser:\n  path: chromium\n  headless: false\n", "browser.headless: unknown key"},
	} {
		_, err := Parse([]byte(without+c.section), "environments/prod.yaml", prodEnv())
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
	}
	// The step cannot be declared not applicable by hand: only by naming no browser.
	declared := strings.Replace(prod, "notApplicable:\n", "notApplicable:\n  - step: "+phase4.FrontendInBrowser+"\n    reason: r\n    verifiedElsewhere: v\n", 1)
	_, err = Parse([]byte(declared), "environments/prod.yaml", prodEnv())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot be declared not applicable")
}
