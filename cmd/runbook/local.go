//go:build !staging && !prod

package main

// runbook local is `make local`: the whole runbook, end to end,
// against a local copy of the platform, with no cloud account.
//
//  1. It starts the local platform at v1.9.0, production as it is before
//     the deployment (fixtures/localenv: PostgreSQL, the reference services,
//     a Kubernetes control plane with the Granter Deployments, Prometheus,
//     the team channel's webhook sink), in runs/<time>-local/platform.
//  2. It makes the evidence the checklist reads in production
//     (fixtures/preflightlab: a checkout tagged VERSION with its CI status,
//     the staging records, the reference migrator as the migration command)
//     and writes the environment file that points at it, and the endpoints
//     file (RUNBOOK_ENV_FILE, RUNBOOK_LOCAL_TARGET).
//  3. It runs `make deploy ENV=local VERSION=v2.0.0` into the same run
//     folder as a child process, as a person would.
//  4. When the deployment succeeded, a compressed drill of the 4-hour watch
//     (`make monitor SCHEDULE="30s x2" TRAFFIC=150`: 3 rounds, 30 s apart,
//     the local platform's only users being that traffic: 4,500 requests a
//     window, enough for "error rate < 0.1%" to be MET on its 95% upper
//     bound, which needs about 3,000) into the same
//     run folder, then the go-live report again, with the watch's evidence.
//  5. It prints the outcome (every journal step with its duration, the
//     images, the versions the services answer, the migrations), then
//     stops everything, or, with --keep, stays up until Ctrl-C.
//
// Its exit code is the deployment's, else the watch's, else the report's
// (internal/exitcode): 0 only when the report says REHEARSAL PASSED: every
// criterion met, on the local target, which is a rehearsal (its compressed
// watch is never a go-live approval).
//
// With --drill (make local-drill) it deploys the broken v2.0.1 (5% of
// requests answer 500) with AUTO_ROLLBACK=1 instead, and proves the
// rollback path: the deployment stopped at its Phase 4 gate, the rollback
// ran, the images and the services are back on v1.9.0, the database was
// restored and verified against the backup, smoke passed on v1.9.0. Exit
// 0 only when all of that holds.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"sigs.k8s.io/yaml"

	"github.com/granter/runbook/fixtures/granter"
	"github.com/granter/runbook/fixtures/localenv"
	"github.com/granter/runbook/fixtures/platform"
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flagorder"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/proc"
	"github.com/granter/runbook/internal/report"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/monitor"
)

func init() {
	register(Command{Name: "local", Order: 50, Summary: "the whole runbook end to end on this machine: local platform at v1.9.0, make deploy, a compressed watch, the report (make local; --drill: make local-drill)",
		Run: localMain})
}

func localMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", granter.V2, "the release to deploy")
	from := fs.String("from", granter.V1, "the version the platform starts at")
	keep := fs.Bool("keep", false, "keep the platform up after the run, until Ctrl-C")
	runDir := fs.String("run-dir", "", "the run folder (default runs/<UTC time>-local)")
	drill := fs.Bool("drill", false, "the rollback drill: deploy the broken "+granter.V201+" with AUTO_ROLLBACK=1 and prove the rollback (make local-drill)")
	watch := fs.String("watch", "30s x2", "the compressed drill of the 4-hour watch run after a successful deployment (\"\" for none)")
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitcode.OK
		}
		return exitcode.Config
	}
	if *drill {
		versionSet := false
		fs.Visit(func(f *flag.Flag) { versionSet = versionSet || f.Name == "version" })
		if !versionSet {
			*version = granter.V201
		}
	}
	began := time.Now()
	root, err := localModuleRoot()
	if err != nil {
		fmt.Fprintln(stderr, "runbook local:", err)
		return exitcode.Config
	}
	if *runDir == "" {
		*runDir = filepath.Join(root, "runs", began.UTC().Format("20060102-150405")+"-local")
	}
	dir, _ := filepath.Abs(*runDir)
	platformDir := filepath.Join(dir, "platform")
	if err := os.MkdirAll(filepath.Join(platformDir, "bin"), 0o700); err != nil {
		fmt.Fprintln(stderr, "runbook local:", err)
		return exitcode.Internal
	}
	tgt, err := target.Load()
	if err != nil {
		fmt.Fprintln(stderr, "runbook local: configuration:", err)
		return exitcode.Config
	}
	tgt.Version = *version
	fmt.Fprintf(stdout, "make local: the runbook end to end, %s -> %s, run folder %s\n\n", *from, *version, dir)

	// 1. The platform, and the migrator built alongside.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	migc := make(chan error, 1)
	var migrator string
	go func() {
		var err error
		migrator, err = preflightlab.BuildMigrator(sctx, filepath.Join(platformDir, "bin"))
		migc <- err
	}()
	env, err := localenv.Start(sctx, tgt, localenv.WithVersion(*from), localenv.WithDir(platformDir), localenv.WithProgress(stdout))
	if merr := <-migc; err == nil {
		err = merr
	}
	if err != nil {
		fmt.Fprintf(stderr, "runbook local: the local platform did not start: %v\n(run `make images` once; `make clean-containers` removes leftovers)\n", err)
		if env != nil {
			_ = env.Close()
		}
		return exitcode.Internal
	}
	defer func() {
		fmt.Fprintln(stdout, "\nmake local: stopping the local platform")
		if err := env.Close(); err != nil {
			fmt.Fprintf(stderr, "runbook local: closing the platform: %v (run `make clean-containers`)\n", err)
		}
		// The endpoints file holds the (now useless) database password and
		// the migrator is a build output: neither belongs in a run folder
		// that CI may keep as an artifact.
		_ = os.Remove(filepath.Join(platformDir, "endpoints.json"))
		_ = os.RemoveAll(filepath.Join(platformDir, "bin"))
	}()

	// 2. The evidence the checklist reads, and the files that point at it.
	var cleanups []func() error
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			_ = cleanups[i]()
		}
	}()
	for _, setup := range []preflightlab.Setup{preflightlab.Checkout(), preflightlab.Staging()} {
		c, err := setup(sctx, tgt)
		if c != nil {
			cleanups = append(cleanups, c)
		}
		if err != nil {
			fmt.Fprintln(stderr, "runbook local: preparing the checklist's evidence:", err)
			return exitcode.Internal
		}
	}
	tgt.Migrations.Command = []string{migrator, "migrate", "run", "--role=" + platform.OwnerRole} // as the schema's owner
	tgt.Migrations.StatusCommand = []string{migrator, "migrate", "status"}
	envFile, err := writeEnvFile(root, platformDir, dir, tgt)
	if err != nil {
		fmt.Fprintln(stderr, "runbook local: environment file:", err)
		return exitcode.Internal
	}
	endpoints := filepath.Join(platformDir, "endpoints.json")
	if err := env.WriteEndpoints(endpoints); err != nil {
		fmt.Fprintln(stderr, "runbook local: endpoints file:", err)
		return exitcode.Internal
	}
	cancel()
	fmt.Fprintf(stdout, "local: evidence for the checklist: checkout %s (tagged %s), CI status, staging records; migrator %s\n", tgt.Code.Repo, *version, migrator)
	fmt.Fprintf(stdout, "local: RUNBOOK_ENV_FILE=%s\nlocal: RUNBOOK_LOCAL_TARGET=%s\n", envFile, endpoints)

	// 3. make deploy, as a person would run it.
	mk := maker{ctx: ctx, root: root, dir: dir, stdout: stdout, stderr: stderr,
		env: []string{"RUNBOOK_LOCAL_TARGET=" + endpoints, "RUNBOOK_ENV_FILE=" + envFile}}
	argv := []string{"deploy", "ENV=local", "VERSION=" + *version, "RUN_DIR=" + dir}
	if *drill {
		argv = append(argv, "AUTO_ROLLBACK=1")
	}
	deployStart := time.Now()
	code := mk.run(argv, "exitcode")
	deployTook := time.Since(deployStart)

	// 4. The watch, compressed, and the report with its evidence.
	if code == exitcode.OK && !*drill && *watch != "" && ctx.Err() == nil {
		fmt.Fprintf(stdout, "\n━━ MONITORING PHASE: a compressed drill of the 4-hour schedule (%s instead of %s; %d read-only requests a second stand in for the users) ━━\n", *watch, monitor.RunbookSchedule, watchRPS)
		code = mk.run([]string{"monitor", "ENV=local", "RUN_DIR=" + dir, "SCHEDULE=" + *watch, "TRAFFIC=" + strconv.Itoa(watchRPS)}, "monitor.exitcode")
		if ctx.Err() == nil {
			fmt.Fprintf(stdout, "\n━━ Go-live report with the watch's evidence (as `make report RUN=%s`) ━━\n", dir)
			if rc := report.MainWith([]string{dir}, stdout, stderr, tgt.Redact); code == exitcode.OK {
				code = rc
			}
		}
	}

	// 5. The outcome.
	octx, ocancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer ocancel()
	if *drill {
		code = drillOutcome(octx, stdout, tgt, dir, code, time.Since(began))
	} else {
		outcome(octx, stdout, env, tgt, dir, code, deployTook, time.Since(began))
	}
	if err := env.BridgeErr(); err != nil {
		fmt.Fprintf(stdout, "⚠ the platform's bridge met an error: %v\n", err)
	}
	if *keep && ctx.Err() == nil {
		fmt.Fprintf(stdout, "\n--keep: the platform stays up; export RUNBOOK_LOCAL_TARGET=%s RUNBOOK_ENV_FILE=%s to run tests against it. Ctrl-C stops it.\n", endpoints, envFile)
		<-ctx.Done()
	}
	return code
}

// maker runs make targets as a person would, against the local platform.
type maker struct {
	ctx            context.Context
	root, dir      string
	env            []string
	stdout, stderr io.Writer
}

// run runs `make argv...` and returns the exit code the command wrote to
// <run folder>/<codeFile> (GNU make itself always exits 2 on a failure);
// Internal when none was written and make failed.
func (m maker) run(argv []string, codeFile string) int {
	fmt.Fprintf(m.stdout, "\n$ %s make %s\n\n", strings.Join(m.env, " "), strings.Join(argv, " "))
	_ = os.Remove(filepath.Join(m.dir, codeFile))
	cmd := proc.CommandSignal(m.ctx, syscall.SIGINT, "make", argv...) // the whole group gets Ctrl-C, as in a terminal
	cmd.Dir = m.root
	cmd.Env = append(os.Environ(), m.env...)
	cmd.Stdout, cmd.Stderr = m.stdout, m.stderr
	cmd.WaitDelay = 30 * time.Second
	runErr := cmd.Run()
	if b, err := os.ReadFile(filepath.Join(m.dir, codeFile)); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	if runErr == nil {
		return exitcode.OK
	}
	return exitcode.Internal
}

// writeEnvFile writes environments/local.yaml with what make local made:
// the migration commands, the checkout, the CI status, the staging records
// and a backup folder inside the run folder. Relative paths of the file
// resolve against root, so the copy keeps them absolute.
func writeEnvFile(root, platformDir, runDir string, tgt *target.Target) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "environments", "local.yaml"))
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", err
	}
	section := func(name string) map[string]any {
		m, _ := doc[name].(map[string]any)
		if m == nil {
			m = map[string]any{}
			doc[name] = m
		}
		return m
	}
	section("migrations")["command"] = tgt.Migrations.Command
	section("migrations")["statusCommand"] = tgt.Migrations.StatusCommand
	section("backup")["dir"] = filepath.Join(runDir, "backups")
	section("code")["repo"] = tgt.Code.Repo
	section("code")["versionFile"] = tgt.Code.VersionFile
	section("ci")["statusFile"] = tgt.CI.StatusFile
	section("staging")["deployRecord"] = tgt.Staging.DeployRecord
	section("staging")["smokeRecord"] = tgt.Staging.SmokeRecord
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(platformDir, "environments", "local.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	header := "# environments/local.yaml as make local runs it: the migration commands, the checkout, the CI\n# status and the staging records it made for this run (written by cmd/runbook-local).\n"
	if err := os.WriteFile(path, append([]byte(header), out...), 0o600); err != nil {
		return "", err
	}
	// It must load as the deployment will load it.
	if _, err := target.LoadFile(path, os.LookupEnv); err != nil {
		return "", err
	}
	return path, nil
}

// outcome prints what the run did and the state it left.
func outcome(ctx context.Context, w io.Writer, env *localenv.Env, tgt *target.Target, dir string, code int, deployTook, total time.Duration) {
	fmt.Fprintf(w, "\n══ make local: outcome ══\n")
	entries, err := journal.Read(dir)
	if err != nil {
		fmt.Fprintf(w, "journal: %v\n", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tSTEP\tSTATUS\tDURATION\tACTION")
	for _, e := range entries {
		action := e.Action
		if len(action) > 90 {
			action = action[:90] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Phase, e.Step, e.Status, e.Duration.Round(time.Millisecond), action)
	}
	_ = tw.Flush()

	fmt.Fprintln(w, "\nThe platform now:")
	for _, s := range tgt.Services {
		im, err := kube.CurrentImages(ctx, env.Cluster.Clientset, env.Namespace, s.Name)
		image := im[s.Name]
		if err != nil {
			image = err.Error()
		}
		v, up := env.Platform.Running(s.Name)
		state := "stopped"
		if up {
			state = "serving " + v
		}
		fmt.Fprintf(w, "  %-13s image %-30s %s at %s\n", s.Name, image, state, s.URL)
	}
	if applied, err := migrations(ctx, tgt); err == nil {
		fmt.Fprintf(w, "  migrations    %s\n", applied)
	}
	fmt.Fprintf(w, "\nrun folder: %s (journal.jsonl, preflight/smoke/postdeploy .json and .junit.xml, report.md, report.html, platform/)\n", dir)
	fmt.Fprintf(w, "make deploy took %s; make local took %s in all (the watch and the report included)\n", deployTook.Round(time.Second), total.Round(time.Second))
	if code == exitcode.OK {
		fmt.Fprintf(w, "✅ make local: %s deployed; every gate passed, the compressed watch passed, the go-live report says REHEARSAL PASSED: all criteria met on a rehearsal target, never a go-live approval (exit 0)\n", tgt.Version)
	} else {
		fmt.Fprintf(w, "❌ make local: exit %d (%s): the deployment, the watch or the go-live report did not pass; the output above says where and what to run next\n", code, exitcode.Name(code))
	}
}

// migrations lists the 2026 migrations recorded in the database.
func migrations(ctx context.Context, tgt *target.Target) (string, error) {
	conn, err := pgx.Connect(ctx, tgt.Database.URL.Reveal())
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT timestamp::text FROM migrations ORDER BY id")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var have []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		have = append(have, id)
	}
	var b bytes.Buffer
	n := 0
	for _, id := range tgt.Migrations.Expected {
		for _, h := range have {
			if h == id {
				n++
			}
		}
	}
	fmt.Fprintf(&b, "%d of the %d expected 2026 migrations applied (%d rows in the migrations table)", n, len(tgt.Migrations.Expected), len(have))
	return b.String(), rows.Err()
}

// watchRPS is the traffic of the compressed watch: a 30 s window then holds
// about 4,500 requests, and 3,000 without an error show "< 0.1%" at 95%
// (stats.MinSample); fewer would leave every round INCONCLUSIVE.
const watchRPS = 150

func localModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above %s: run make local from the repository", wd)
		}
		dir = parent
	}
}
