package pgbackup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/granter/runbook/internal/proc"
	"github.com/granter/runbook/internal/target"
)

// Server is one PostgreSQL server and where its client tools run.
type Server struct {
	// URL connects to the server as a user who may create databases
	// (postgres://user:password@host:port/database?sslmode=...). Its database
	// is the one SQL connections open when no other is named. It holds a
	// password: it reaches the tools as PG* environment variables only.
	URL target.Secret
	// Container, when set, is the ID or name of the Docker container that
	// runs the server: pg_dump and pg_restore run inside it (`docker exec`),
	// connecting through its local socket, as the runbook's
	// `docker exec postgres pg_dump` does. Empty: the host's pg_dump and
	// pg_restore are used, connecting to URL.
	Container string
}

// Source is one database on a server: what Dump backs up and Restore
// replaces.
type Source struct {
	Server
	Database string // granter_db
}

// SourceOf is the target's database as a Source.
func SourceOf(tgt *target.Target) (Source, error) {
	if tgt.Database == nil {
		return Source{}, errors.New("the target has no database access (no database: section in " + tgt.File + ")")
	}
	if tgt.Database.URL.IsZero() {
		return Source{}, errors.New("the target's database URL is empty (database.urlEnv, or a local platform that attaches it)")
	}
	return Source{Server: Server{URL: tgt.Database.URL, Container: tgt.Database.Container}, Database: tgt.Database.Name}, nil
}

// ScratchOf is where src's backups are verified for tgt: the server of
// backup.scratchURLEnv when the file names one, else src's own.
func ScratchOf(tgt *target.Target, src Source) Server {
	if !tgt.Backup.ScratchURL.IsZero() {
		return Server{URL: tgt.Backup.ScratchURL}
	}
	return src.Server
}

func (s Server) String() string {
	if s.Container != "" {
		return "container " + shortID(s.Container)
	}
	u, err := url.Parse(s.URL.Reveal())
	if err != nil || u.Host == "" {
		return "server " + s.URL.String()
	}
	return "server " + u.Host
}

func (s Source) String() string { return s.Database + " on " + s.Server.String() }

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// redact removes the URL's password and whole value from text.
func (s Server) redact(text string) string { return target.Redact(text, s.URL) }

// connect opens a SQL session on database (the URL's own when empty), with
// the session settings that make a row's text form the same on every
// connection (the checksums depend on it).
func (s Server) connect(ctx context.Context, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(s.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %s", s.URL, s.redact(err.Error()))
	}
	if database != "" {
		cfg.Database = database
	}
	for k, v := range sessionSettings {
		cfg.RuntimeParams[k] = v
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s on %s: %s", cfg.Database, s, s.redact(err.Error()))
	}
	return conn, nil
}

// sessionSettings fix the text output of dates, times, floats and bytes,
// and lift the timeouts a database or a role may set (ALTER DATABASE ...
// SET statement_timeout): a checksum of a million rows, or the dump's
// snapshot held while pg_dump runs, must not be cut short. Settings given
// when connecting take precedence over those.
var sessionSettings = map[string]string{
	"statement_timeout":                   "0",
	"lock_timeout":                        "0",
	"idle_in_transaction_session_timeout": "0",
	"TimeZone":                            "UTC",
	"DateStyle":                           "ISO, YMD",
	"IntervalStyle":                       "postgres",
	"extra_float_digits":                  "1",
	"bytea_output":                        "hex",
	"application_name":                    "runbook-pgbackup",
}

// pgEnv turns the URL into the libpq environment variables of database.
// Every parameter is mapped or refused: a setting silently dropped could
// point the tools at another server or disable TLS.
func (s Server) pgEnv(database string) ([]string, error) {
	u, err := url.Parse(s.URL.Reveal())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("database URL %s is not a postgres:// URL", s.URL)
	}
	env := map[string]string{"PGDATABASE": database}
	if u.User != nil {
		env["PGUSER"] = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			env["PGPASSWORD"] = pw
		}
	}
	if s.Container == "" {
		env["PGHOST"] = u.Hostname()
		if p := u.Port(); p != "" {
			env["PGPORT"] = p
		}
		known := map[string]string{
			"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
			"sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME",
		}
		for k, vs := range u.Query() {
			name, ok := known[k]
			if !ok {
				return nil, fmt.Errorf("database URL %s: parameter %q is not supported for pg_dump/pg_restore (supported: sslmode, sslrootcert, sslcert, sslkey, connect_timeout, application_name)", s.URL, k)
			}
			env[name] = vs[len(vs)-1]
		}
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// tool is one run of pg_dump or pg_restore.
type tool struct {
	srv      Server
	database string
	name     string // pg_dump, pg_restore
	args     []string
	stdin    io.Reader
	stdout   io.Writer
}

// command builds the exec.Cmd. Inside a container: docker exec -i -e PGUSER
// -e PGPASSWORD -e PGDATABASE <container> <tool> <args>: `-e NAME` without a
// value makes docker read the value from its own environment, so the
// password is never an argument (ps would show it).
func (t tool) command(ctx context.Context) (*exec.Cmd, error) {
	env, err := t.srv.pgEnv(t.database)
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	if t.srv.Container != "" {
		args := []string{"exec"}
		if t.stdin != nil {
			args = append(args, "-i")
		}
		for _, kv := range env {
			name, _, _ := strings.Cut(kv, "=")
			args = append(args, "-e", name)
		}
		args = append(args, t.srv.Container, t.name)
		cmd = proc.Command(ctx, "docker", append(args, t.args...)...)
	} else {
		cmd = proc.Command(ctx, t.name, t.args...)
	}
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin, cmd.Stdout = t.stdin, t.stdout
	return cmd, nil
}

// cleanEnv is the process environment without any PG* variable: only the
// ones derived from the URL may steer the tools.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			out = append(out, kv)
		}
	}
	return out
}

// manual is the equivalent command a person would type, for messages.
func (t tool) manual() string {
	cmd := t.name + " " + strings.Join(t.args, " ")
	if t.srv.Container != "" {
		cmd = "docker exec " + shortID(t.srv.Container) + " " + cmd
	}
	return strings.TrimSpace(cmd)
}

// run runs the tool; a failure returns a *ToolError with the tail of stderr.
func (t tool) run(ctx context.Context) error {
	cmd, err := t.command(ctx)
	if err != nil {
		return err
	}
	stderr := &tailBuffer{max: 4096}
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return &ToolError{Command: t.manual(), Where: t.srv.String(), Err: err,
			Stderr: t.srv.redact(strings.TrimSpace(stderr.String()))}
	}
	return nil
}

// ToolError is a pg_dump or pg_restore run that failed.
type ToolError struct {
	Command string // the equivalent manual command (no secrets)
	Where   string // container or server
	Err     error  // exit status
	Stderr  string // the tail of its error output, redacted
}

func (e *ToolError) Error() string {
	msg := fmt.Sprintf("%s (on %s): %v", e.Command, e.Where, e.Err)
	if e.Stderr != "" {
		msg += ": " + strings.ReplaceAll(e.Stderr, "\n", " | ")
	}
	return msg
}

func (e *ToolError) Unwrap() error { return e.Err }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return n, nil
}

func (b *tailBuffer) String() string { return b.buf.String() }
