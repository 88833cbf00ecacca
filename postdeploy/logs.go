package postdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// ShownLines is how many offending log lines a failure message quotes.
const ShownLines = 5

func logsManual(tgt *target.Target) string {
	return kube.Describe(tgt) + " logs -l app=backend-core --tail=50 | grep ERROR   (here: every service, since the end of Phase 3)"
}

func sqlManual(tgt *target.Target) string {
	return kube.Describe(tgt) + " logs -l app=<service> --since=<window> | grep -Ei 'sql error|sqlstate'"
}

// readLogs reads every service's pod logs of the window once; the logs and
// SQL checks share them.
func (c *Checker) readLogs(ctx context.Context) (map[string][]kube.LogLine, time.Duration, time.Time, error) {
	c.mu.Lock()
	if c.logLines != nil || c.logsErr != nil {
		defer c.mu.Unlock()
		return c.logLines, c.logsWin, c.logsAt, c.logsErr
	}
	c.mu.Unlock()
	tgt := c.Target
	if tgt.Kube == nil {
		return nil, 0, time.Time{}, fmt.Errorf("the target has no Kubernetes access (no kube: section in %s): the pod logs cannot be read, so Step 4.2 is not proven", tgt.File)
	}
	cs, err := c.kube()
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	now := time.Now()
	win := c.window(now, time.Second, time.Hour, LogWindow)
	logs := map[string][]kube.LogLine{}
	var errs []error
	for _, svc := range tgt.Services {
		lines, err := kube.PodLogs(ctx, cs, tgt.Kube.Namespace, "app="+svc.Name, kube.LogOptions{Since: win})
		logs[svc.Name] = lines
		if err != nil {
			errs = append(errs, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logLines, c.logsWin, c.logsAt, c.logsErr = logs, win, now, errors.Join(errs...)
	return c.logLines, c.logsWin, c.logsAt, c.logsErr
}

func (c *Checker) allowlist() ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	if c.Target.Kube == nil {
		return nil, nil
	}
	for _, p := range c.Target.Kube.LogAllowlist {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("kube.logAllowlist in %s: %q: %w", c.Target.File, p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func (c *Checker) logsQuery(win time.Duration) string {
	var q []string
	for _, s := range c.Target.Services {
		q = append(q, fmt.Sprintf("kubectl logs -l app=%s --since=%s", s.Name, win))
	}
	return strings.Join(q, "; ")
}

// logs is Step 4.2: no ERROR-level line (kube.IsErrorLine) in any
// service's logs since the end of Phase 3, except the allowlisted ones,
// and no container restart in that window (kube.Restarts: the restart
// count and the previous container's log, which the current log no
// longer holds: a v2 pod that panicked and restarted fails here, quoted).
// A service with no line at all fails: a scan of nothing proves nothing.
func (c *Checker) logs(ctx context.Context, ev *Evidence) error {
	logs, win, at, err := c.readLogs(ctx)
	if err != nil {
		return fmt.Errorf("reading the pod logs: %w", err)
	}
	allow, err := c.allowlist()
	if err != nil {
		return err
	}
	ev.Set(journal.KeyLogsQuery, c.logsQuery(win))
	var found []string
	var silent []string
	total := 0
	for _, svc := range c.Target.Services {
		lines := logs[svc.Name]
		findings := kube.ScanErrors(lines, allow)
		total += len(findings)
		ev.Logf("%s: %d log lines %s, %d ERROR (allowlist: %d patterns)", svc.Name, len(lines), sinceText(at, win), len(findings), len(allow))
		if len(lines) == 0 {
			silent = append(silent, svc.Name)
		}
		for _, f := range findings {
			found = append(found, svc.Name+": "+f.String())
		}
	}
	ev.Set("log.errors", fmt.Sprint(total))
	restarts, err := c.restarts(ctx, at.Add(-win))
	if err != nil {
		return fmt.Errorf("reading the restart counts: %w", err)
	}
	ev.Set(journal.KeyRestarts, fmt.Sprint(len(restarts)))
	if len(restarts) > 0 {
		ev.Set(journal.KeyRestartsSample, restarts[0])
	}
	var why []string
	if total > 0 {
		why = append(why, fmt.Sprintf("%d ERROR-level log lines %s, none allowlisted (kube.logAllowlist), expected none:\n  %s",
			total, sinceText(at, win), strings.Join(firstN(found, ShownLines), "\n  ")))
	}
	if len(restarts) > 0 {
		why = append(why, fmt.Sprintf("%d container restart(s) %s, expected none (a restarted container's log is gone from the current one; its previous log is quoted):\n  %s",
			len(restarts), sinceText(at, win), strings.Join(firstN(restarts, ShownLines), "\n  ")))
	}
	if len(why) > 0 {
		return errors.New(strings.Join(why, "\n"))
	}
	if len(silent) > 0 {
		return fmt.Errorf("no log line at all from %s %s: a scan of nothing proves nothing (is logging operational? are the pods running?)",
			strings.Join(silent, ", "), sinceText(at, win))
	}
	ev.Summarize("no ERROR line and no container restart in the logs of %d services %s", len(c.Target.Services), sinceText(at, win))
	return nil
}

// restarts are the services' containers that restarted since since, each
// as one line: service, pod, container, restart count, last termination
// reason, and the line of the previous container's log that says why.
func (c *Checker) restarts(ctx context.Context, since time.Time) ([]string, error) {
	cs, err := c.kube()
	if err != nil {
		return nil, err
	}
	var out []string
	var errs []error
	for _, svc := range c.Target.Services {
		rs, err := kube.Restarts(ctx, cs, c.Target.Kube.Namespace, "app="+svc.Name, since)
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range rs {
			out = append(out, svc.Name+": "+r.String())
		}
	}
	return out, errors.Join(errs...)
}

var sqlPlain = regexp.MustCompile(`(?i)\bsql ?error\b|\bSQLSTATE\b|\bsyntax error at or near\b|\brelation "[^"]*" does not exist|\bcolumn "[^"]*" does not exist|\bduplicate key value violates\b|\bviolates (foreign key|not-null|check) constraint\b|\bdeadlock detected\b`)

// IsSQLError reports whether a log line reports an SQL error: a JSON line
// with a "sqlstate" key or a message naming an SQL error, or a plain line
// with Postgres' words for one (SQLSTATE, syntax error at or near,
// relation "x" does not exist, ...), at any level.
func IsSQLError(text string) bool {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{") {
		var m map[string]any
		if json.Unmarshal([]byte(t), &m) == nil {
			for _, k := range []string{"sqlstate", "sql_state", "pg_code"} {
				if v, ok := m[k]; ok && fmt.Sprint(v) != "" {
					return true
				}
			}
			for _, k := range []string{"msg", "message", "error", "err"} {
				if s, ok := m[k].(string); ok && sqlPlain.MatchString(s) {
					return true
				}
			}
			return false
		}
	}
	return sqlPlain.MatchString(t)
}

// sqlErrors is the success criterion "No SQL errors in logs": no log line
// reporting an SQL error (IsSQLError) since the end of Phase 3, except the
// allowlisted ones.
func (c *Checker) sqlErrors(ctx context.Context, ev *Evidence) error {
	logs, win, at, err := c.readLogs(ctx)
	if err != nil {
		return fmt.Errorf("reading the pod logs: %w", err)
	}
	allow, err := c.allowlist()
	if err != nil {
		return err
	}
	ev.Set(journal.KeyLogsQuery, c.logsQuery(win))
	found, read := SQLErrorLines(c.Target.Services, logs, allow)
	ev.Set(journal.KeySQLErrors, fmt.Sprint(len(found)))
	ev.Logf("%d log lines read %s, %d SQL errors", read, sinceText(at, win), len(found))
	if len(found) > 0 {
		ev.Set(journal.KeySQLErrorsSample, found[0])
		return fmt.Errorf("%d SQL errors in the logs %s, expected none:\n  %s", len(found), sinceText(at, win), strings.Join(firstN(found, ShownLines), "\n  "))
	}
	if read == 0 {
		return fmt.Errorf("no log line at all %s: a scan of nothing proves nothing", sinceText(at, win))
	}
	ev.Summarize("no SQL error in %d log lines %s", read, sinceText(at, win))
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SQLErrorLines returns the SQL error lines of the services' logs that no
// allowlist pattern matches, each named by service, pod and line, and how
// many lines were read. An allowlisted line is skipped on its own: the lines
// after it are still read.
func SQLErrorLines(services []target.Service, logs map[string][]kube.LogLine, allow []*regexp.Regexp) (found []string, read int) {
	for _, svc := range services {
	lines:
		for _, l := range logs[svc.Name] {
			read++
			if !IsSQLError(l.Text) {
				continue
			}
			for _, re := range allow {
				if re.MatchString(l.Text) {
					continue lines
				}
			}
			found = append(found, fmt.Sprintf("%s: pod %s line %d: %s", svc.Name, l.Pod, l.Number, clip(l.Text, 240)))
		}
	}
	return found, read
}
