package target

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/granter/runbook/internal/phase4"
)

// Getenv looks up an environment variable; os.LookupEnv in production,
// a map in tests.
type Getenv func(name string) (string, bool)

// ConfigError is one bad or missing setting: which, where, and why.
type ConfigError struct {
	File    string // environments/prod.yaml
	Setting string // thresholds.apiP95, or the environment variable
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.File, e.Setting, e.Problem)
}

// Parse reads one environment file's content. Every problem is reported,
// each as one line naming the setting and the file.
func Parse(data []byte, file string, getenv Getenv) (*Target, error) {
	fc, err := decodeStrict(data)
	if err != nil {
		err.File = file
		return nil, err
	}
	v := validator{file: file, getenv: getenv}
	t := v.build(fc)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return t, nil
}

// LoadFile reads and parses one environment file.
func LoadFile(path string, getenv Getenv) (*Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Setting: "(file)", Problem: err.Error()}
	}
	return Parse(data, path, getenv)
}

// Find locates environments/<env>.yaml: $RUNBOOK_ENV_FILE when set, else the
// nearest environments folder at or above the working directory (go test
// runs in the package folder).
func Find(env string) (string, error) {
	if p := os.Getenv("RUNBOOK_ENV_FILE"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "environments", env+".yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("environments/%s.yaml not found in or above the working directory; set RUNBOOK_ENV_FILE to its path", env)
		}
		dir = parent
	}
}

type validator struct {
	file   string
	getenv Getenv
	errs   []error
	local  bool
}

func (v *validator) fail(setting, format string, args ...any) {
	v.errs = append(v.errs, &ConfigError{File: v.file, Setting: setting, Problem: fmt.Sprintf(format, args...)})
}

// url checks a URL setting. Empty is allowed only when allowEmpty (local
// endpoints that fixtures fill in).
func (v *validator) url(setting, raw string, allowEmpty bool) string {
	if raw == "" {
		if !allowEmpty {
			v.fail(setting, "missing (want an absolute http or https URL)")
		}
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.fail(setting, "malformed URL %q (want an absolute http or https URL such as https://api.example.com)", raw)
		return ""
	}
	return strings.TrimSuffix(raw, "/")
}

// secret reads the environment variable a setting names.
func (v *validator) secret(setting, envName string) Secret {
	if envName == "" {
		v.fail(setting, "missing (name the environment variable that holds the secret)")
		return Secret{}
	}
	val, ok := v.getenv(envName)
	if !ok || val == "" {
		v.fail(setting, "environment variable %s is not set (it holds a secret; export it before running)", envName)
		return Secret{}
	}
	return NewSecret(envName, val)
}

func (v *validator) build(fc *fileConfig) *Target {
	t := &Target{Env: fc.Name, File: v.file, ReadOnly: fc.ReadOnly, Rehearsal: fc.Rehearsal, Confirm: fc.Confirm, secrets: &secretSet{}}
	v.local = fc.Name == "local"
	// Relative paths are relative to the repository root: the folder that
	// holds environments/.
	root := filepath.Dir(filepath.Dir(v.file))
	if fc.Name == "" {
		v.fail("name", "missing (local, staging or prod)")
	}
	if !v.local && fc.Confirm == "" {
		v.fail("confirm", "missing: staging and prod need a confirmation word for destructive steps")
	}
	v.services(t, fc.Services)
	if fc.Kube != nil {
		k := fc.Kube
		if k.Namespace == "" {
			v.fail("kube.namespace", "missing")
		}
		for _, re := range k.LogAllowlist {
			if _, err := regexp.Compile(re); err != nil {
				v.fail("kube.logAllowlist", "bad regular expression %q: %v", re, err)
			}
		}
		t.Kube = &Kube{Kubeconfig: k.Kubeconfig, Context: k.Context, Namespace: k.Namespace,
			Secrets: k.Secrets, Ingress: k.Ingress, TLSHosts: k.TLSHosts, LogAllowlist: k.LogAllowlist,
			TLSEndpoints: v.tlsEndpoints(k.TLSEndpoints, k.TLSHosts), TLSRootCA: v.existingFile("kube.tlsRootCA", resolve(root, k.TLSRootCA))}
	}
	if fc.Prometheus != nil {
		p := fc.Prometheus
		t.Prometheus = &Prometheus{URL: v.url("prometheus.url", p.URL, v.local), Selector: p.Selector}
		for i, d := range p.Dashboards {
			t.Prometheus.Dashboards = append(t.Prometheus.Dashboards, v.url(fmt.Sprintf("prometheus.dashboards[%d]", i), d, false))
		}
	}
	if fc.Database != nil {
		d := &Database{Name: fc.Database.Name, Container: fc.Database.Container}
		if d.Name == "" {
			v.fail("database.name", "missing")
		}
		if !v.local || fc.Database.URLEnv != "" {
			d.URL = v.secret("database.urlEnv", fc.Database.URLEnv)
			t.secrets.add(d.URL)
			if !d.URL.IsZero() && d.Name != "" {
				if err := DatabaseNamed(d.URL, d.Name); err != nil {
					v.fail("database.urlEnv", "%s: %v", fc.Database.URLEnv, err)
				}
			}
		}
		t.Database = d
	}
	if fc.Webhook != nil {
		w := &Webhook{Channel: fc.Webhook.Channel}
		if !v.local || fc.Webhook.URLEnv != "" {
			w.URL = v.secret("webhook.urlEnv", fc.Webhook.URLEnv)
			t.secrets.add(w.URL)
		}
		t.Webhook = w
	}
	t.Thresholds = v.thresholds(fc.Thresholds)
	t.Migrations = v.migrations(fc.Migrations)
	t.Smoke = v.smoke(fc.Smoke)
	t.HTTP = HTTP{Timeout: 10 * time.Second, InsecureTLS: fc.HTTP.InsecureTLS}
	if fc.HTTP.Timeout != nil {
		t.HTTP.Timeout = v.duration("http.timeout", *fc.HTTP.Timeout, t.HTTP.Timeout)
	}
	if t.HTTP.InsecureTLS && !v.local {
		v.fail("http.insecureTLS", "only the local target may skip TLS verification")
	}
	t.HTTP.RootCA, t.HTTP.RootCAs = v.rootCA("http.rootCA", resolve(root, fc.HTTP.RootCA))
	t.Backup = v.backup(fc.Backup, root, t)
	t.Code = v.code(fc.Code, root)
	t.CI = v.ci(fc.CI, root)
	t.Staging = v.staging(fc.Staging, root, t)
	t.Team = v.team(fc.Team, root)
	t.NotApplicable = v.notApplicable(fc.NotApplicable, t.Env)
	t.Browser = v.browser(fc.Browser)
	if t.Browser == nil {
		t.NotApplicable = append(t.NotApplicable, NotApplicable{Step: phase4.FrontendInBrowser,
			Reason:            "the file names no browser (browser.path), so the web-frontend is not loaded in a real browser",
			VerifiedElsewhere: "only the health flow's GET / (200, text/html) here; the page's rendering and its search form are checked where a browser is named (environments/local.yaml, make local)",
			File:              v.file, Env: t.Env})
	}
	t.Version = v.version()
	return t
}

// browser checks the browser: section; nil when there is none.
func (v *validator) browser(fb *fileBrowser) *Browser {
	if fb == nil {
		return nil
	}
	b := &Browser{Path: strings.TrimSpace(fb.Path), Timeout: DefaultBrowserTimeout}
	switch {
	case b.Path == "":
		v.fail("browser.path", "missing (the headless browser's executable: chromium, or an absolute path)")
	case strings.ContainsRune(b.Path, '/') && !filepath.IsAbs(b.Path):
		v.fail("browser.path", "%q: want a command on PATH (chromium) or an absolute path", b.Path)
	}
	if fb.Timeout != nil {
		b.Timeout = v.duration("browser.timeout", *fb.Timeout, b.Timeout)
	}
	return b
}

// resolve resolves a file setting against the repository root.
func resolve(root, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

func (v *validator) backup(fb fileBackup, root string, t *Target) Backup {
	b := Backup{Dir: resolve(root, fb.Dir)}
	if fb.Dir == "" {
		v.fail("backup.dir", "missing (the folder checklist item 1 and Step 1.1 write backups to)")
	}
	if fb.ScratchURLEnv != "" {
		b.ScratchURL = v.secret("backup.scratchURLEnv", fb.ScratchURLEnv)
		t.secrets.add(b.ScratchURL)
	}
	return b
}

func (v *validator) code(fc fileCode, root string) Code {
	c := Code{Repo: resolve(root, fc.Repo), Remote: orDefault(fc.Remote, "origin"), Branch: orDefault(fc.Branch, "main"), VersionFile: fc.VersionFile}
	if fc.Repo == "" && !v.local {
		v.fail("code.repo", "missing (the path of the application checkout that will be deployed)")
	}
	if filepath.IsAbs(fc.VersionFile) || strings.HasPrefix(filepath.Clean(fc.VersionFile), "..") {
		v.fail("code.versionFile", "%q must be a path inside the checkout", fc.VersionFile)
	}
	return c
}

func (v *validator) ci(fc fileCI, root string) CI {
	c := CI{StatusFile: resolve(root, fc.StatusFile), StatusCommand: fc.StatusCommand}
	switch {
	case fc.StatusFile != "" && len(fc.StatusCommand) > 0:
		v.fail("ci", "set statusFile or statusCommand, not both")
	case fc.StatusFile == "" && len(fc.StatusCommand) == 0 && !v.local:
		v.fail("ci", "missing statusFile or statusCommand (where \"All tests passing\" reads the test status of the commit)")
	}
	return c
}

func (v *validator) staging(fs fileStaging, root string, t *Target) Staging {
	s := Staging{KubeContext: fs.KubeContext, Namespace: fs.Namespace, DeployRecord: resolve(root, fs.DeployRecord), SmokeRecord: resolve(root, fs.SmokeRecord)}
	switch {
	case fs.KubeContext != "" && fs.DeployRecord != "":
		v.fail("staging", "set kubeContext or deployRecord, not both")
	case fs.KubeContext == "" && fs.DeployRecord == "" && !v.local:
		v.fail("staging", "missing kubeContext or deployRecord (where \"Staging deployment successful\" reads what staging runs)")
	}
	if fs.KubeContext != "" {
		if t.Kube == nil {
			v.fail("staging.kubeContext", "needs the kube: section (its kubeconfig)")
		} else if s.Namespace == "" {
			s.Namespace = t.Kube.Namespace
		}
	}
	if fs.SmokeRecord == "" && !v.local {
		v.fail("staging.smokeRecord", "missing (the record of the staging smoke run, such as runs/staging-smoke-{version}.json)")
	}
	s.RollbackRecord = resolve(root, fs.RollbackRecord)
	if fs.RollbackRecord == "" && !v.local {
		v.fail("staging.rollbackRecord", "missing (the record of the rollback drill on staging, such as runs/staging-rollback-{version}.json)")
	}
	s.RollbackMaxAge = 7 * 24 * time.Hour
	if fs.RollbackMaxAge != nil {
		s.RollbackMaxAge = v.duration("staging.rollbackMaxAge", *fs.RollbackMaxAge, s.RollbackMaxAge)
	}
	return s
}

func (v *validator) team(ft fileTeam, root string) Team {
	t := Team{Roster: resolve(root, ft.Roster), Acks: resolve(root, ft.Acks), AckMaxAge: 3 * time.Hour}
	if ft.Roster == "" && !v.local {
		v.fail("team.roster", "missing (the deployment's roster: team, channel, video call, escalation contacts, on-call; such as runs/roster-{version}.yaml)")
	}
	if ft.Acks == "" && !v.local {
		v.fail("team.acks", "missing (the file the team's confirmations are recorded in, such as runs/acks-{version}.jsonl)")
	}
	if ft.AckMaxAge != nil {
		t.AckMaxAge = v.duration("team.ackMaxAge", *ft.AckMaxAge, t.AckMaxAge)
	}
	return t
}

// tlsEndpoints checks kube.tlsEndpoints: each key one of kube.tlsHosts,
// each value a host:port.
func (v *validator) tlsEndpoints(in map[string]string, hosts []string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for host, addr := range in {
		setting := "kube.tlsEndpoints." + host
		if !slices.Contains(hosts, host) {
			v.fail(setting, "%q is not one of kube.tlsHosts (%s)", host, strings.Join(hosts, ", "))
			continue
		}
		h, port, err := net.SplitHostPort(addr)
		if n, perr := strconv.Atoi(port); err != nil || h == "" || perr != nil || n <= 0 || n > 65535 {
			v.fail(setting, "%q is not a host:port such as lb.example.com:443", addr)
			continue
		}
		out[host] = addr
	}
	return out
}

// rootCA reads a PEM file of CA certificates: the system's roots plus
// them. Empty: nil, the system's roots.
func (v *validator) rootCA(setting, path string) (string, *x509.CertPool) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		v.fail(setting, "%v", err)
		return path, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		v.fail(setting, "%s holds no PEM certificate", path)
		return path, nil
	}
	return path, pool
}

// existingFile checks that a file setting, when set, names a readable
// file; locally it may be filled in later by a fixture.
func (v *validator) existingFile(setting, path string) string {
	if path == "" {
		return ""
	}
	if _, err := os.Stat(path); err != nil {
		v.fail(setting, "%v", err)
	}
	return path
}

// VersionEnv names the environment variable holding the release to deploy.
const VersionEnv = "RUNBOOK_VERSION"

var releaseVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// IsReleaseVersion reports whether v is a release version such as v2.0.0
// (what VersionEnv must hold).
func IsReleaseVersion(v string) bool { return releaseVersion.MatchString(v) }

func (v *validator) version() string {
	ver, _ := v.getenv(VersionEnv)
	if ver != "" && !releaseVersion.MatchString(ver) {
		v.fail(VersionEnv, "%q is not a release version such as v2.0.0", ver)
		return ""
	}
	return ver
}

func (v *validator) services(t *Target, in []fileService) {
	want := []string{BackendCore, DataService, WebFrontend}
	seen := map[string]bool{}
	for i, s := range in {
		at := fmt.Sprintf("services[%d]", i)
		if s.Name == "" {
			v.fail(at+".name", "missing")
			continue
		}
		if seen[s.Name] {
			v.fail(at+".name", "service %q listed twice", s.Name)
		}
		seen[s.Name] = true
		if s.Image == "" {
			v.fail(at+".image", "missing (the image repository without tag, such as granter/%s)", s.Name)
		} else if strings.Contains(s.Image[strings.LastIndex(s.Image, "/")+1:], ":") {
			v.fail(at+".image", "%q has a tag; give the repository only (the version is the tag)", s.Image)
		}
		t.Services = append(t.Services, Service{
			Name: s.Name, URL: v.url(at+".url", s.URL, v.local), Image: s.Image,
			Health: orDefault(s.Health, "/health"), Live: orDefault(s.Live, "/health/live"), Ready: orDefault(s.Ready, "/health/ready"),
		})
	}
	for _, name := range want {
		if !seen[name] {
			v.fail("services", "service %q missing (the runbook deploys %s)", name, strings.Join(want, ", "))
		}
	}
}

func (v *validator) thresholds(ft fileThresholds) Thresholds {
	var th Thresholds
	pct := func(setting string, p *string, dst *float64) {
		if p == nil {
			v.fail("thresholds."+setting, "missing")
			return
		}
		val, err := parsePercent(*p)
		if err != nil {
			v.fail("thresholds."+setting, "%v", err)
			return
		}
		if val <= 0 || val > 1 {
			v.fail("thresholds."+setting, "must be between 0%% and 100%%, got %s", *p)
		}
		*dst = val
	}
	dur := func(setting string, d *string, dst *time.Duration) {
		if d == nil {
			v.fail("thresholds."+setting, "missing")
			return
		}
		*dst = v.duration("thresholds."+setting, *d, 0)
	}
	num := func(setting string, n *int, dst *int) {
		if n == nil {
			v.fail("thresholds."+setting, "missing")
			return
		}
		if *n <= 0 {
			v.fail("thresholds."+setting, "must be positive, got %d", *n)
		}
		*dst = *n
	}
	pct("errorRate", ft.ErrorRate, &th.ErrorRate)
	pct("rollbackErrorRate", ft.RollbackErrorRate, &th.RollbackErrorRate)
	pct("cpu", ft.CPU, &th.CPU)
	dur("apiP95", ft.APIP95, &th.APIP95)
	dur("dbQuery", ft.DBQuery, &th.DBQuery)
	dur("rolloutTimeout", ft.RolloutTimeout, &th.RolloutTimeout)
	dur("drainGrace", ft.DrainGrace, &th.DrainGrace)
	dur("rollbackBudget", ft.RollbackBudget, &th.RollbackBudget)
	dur("backupMaxAge", ft.BackupMaxAge, &th.BackupMaxAge)
	num("activeConnections", ft.ActiveConnections, &th.ActiveConnections)
	num("minSamples", ft.MinSamples, &th.MinSamples)
	num("tlsMinDays", ft.TLSMinDays, &th.TLSMinDays)
	th.LogWindow, th.BaselineWindow = 5*time.Minute, time.Hour
	if ft.LogWindow != nil {
		th.LogWindow = v.duration("thresholds.logWindow", *ft.LogWindow, th.LogWindow)
	}
	if ft.BaselineWindow != nil {
		th.BaselineWindow = v.duration("thresholds.baselineWindow", *ft.BaselineWindow, th.BaselineWindow)
	}
	if th.ErrorRate > 0 && th.RollbackErrorRate > 0 && th.RollbackErrorRate < th.ErrorRate {
		v.fail("thresholds.rollbackErrorRate", "%g%% is below thresholds.errorRate %g%%: the rollback trigger must be the higher one", th.RollbackErrorRate*100, th.ErrorRate*100)
	}
	return th
}

var migrationID = regexp.MustCompile(`^[0-9]{14}$`)

func (v *validator) migrations(fm fileMigrations) Migrations {
	if len(fm.Expected) == 0 {
		v.fail("migrations.expected", "missing (the migrations Phase 2 must apply)")
	}
	for i, id := range fm.Expected {
		if !migrationID.MatchString(id) {
			v.fail(fmt.Sprintf("migrations.expected[%d]", i), "%q is not a 14-digit migration timestamp", id)
		}
	}
	if len(fm.Command) == 0 && !v.local {
		v.fail("migrations.command", "missing (the command that runs pending migrations)")
	}
	return Migrations{Expected: fm.Expected, Command: fm.Command, StatusCommand: fm.StatusCommand}
}

func (v *validator) smoke(fs fileSmoke) Smoke {
	s := Smoke{UserPrefix: orDefault(fs.UserPrefix, "smoke-"), EmailDomain: orDefault(fs.EmailDomain, "example.com"),
		ListingURL: v.url("smoke.listingURL", fs.ListingURL, v.local), ListingPages: fs.ListingPages,
		ListingGrants: fs.ListingGrants, SearchP95: 200 * time.Millisecond, JobTimeout: 2 * time.Minute}
	if fs.SearchP95 != nil {
		s.SearchP95 = v.duration("smoke.searchP95", *fs.SearchP95, s.SearchP95)
	}
	if fs.JobTimeout != nil {
		s.JobTimeout = v.duration("smoke.jobTimeout", *fs.JobTimeout, s.JobTimeout)
	}
	if !v.local && s.ListingPages < 5 {
		v.fail("smoke.listingPages", "%d: the scraper flow needs a listing of at least 5 pages", s.ListingPages)
	}
	return s
}

// duration parses a positive duration setting; on error it reports the
// setting and returns def.
func (v *validator) duration(setting, raw string, def time.Duration) time.Duration {
	d, err := parseDuration(raw)
	if err != nil {
		v.fail(setting, "%v", err)
		return def
	}
	if d <= 0 {
		v.fail(setting, "must be positive, got %s", raw)
		return def
	}
	return d
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
