// Command mutation is `make mutation`: mutation testing of the reference
// services (fixtures/granter) against the runbook's own gates. Each mutant
// is one file of fixtures/granter changed (internal/mutation) and compiled
// into the services' binary (fixtures/granter/cmd/granter) with `go build
// -overlay`, so the tree is never touched, not even on Ctrl-C. Each worker
// keeps one bench: PostgreSQL in one container (seeded, migrated, reset
// to its snapshot after each mutant), the listing site, the AI provider
// and Prometheus. The mutant's three services run as processes on the
// bench's ports; `runbook smoke` (built once, from the unchanged tree) and
// the postdeploy checks that ask the services and Prometheus (Steps 4.3,
// 4.4, 4.5) run against them. A mutant they let through survived.
//
// The unchanged services run first, as the baseline: when they do not
// pass, no mutant is judged. Equivalent mutants are listed, with their
// reason, in fixtures/mutation/equivalent.tsv; -quick runs the ten of
// fixtures/mutation/quick.txt and fails when one survives.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/granter/runbook/internal/mutation"
)

// Files of fixtures/granter that are not mutated, and why.
var excluded = map[string]string{
	"listing.go":      "the listing site the scraper reads: a stand-in for the outside world, not a Granter service",
	"aiprovider.go":   "the AI provider: a stand-in for a third party, not a Granter service",
	"seed.go":         "the seed data of the local database, not service code",
	"seedhistory.go":  "the local database's seeded users and scrape history, as seed.go: not service code",
	"bulk.go":         "synthetic rows for the benchmarks, not service code",
	"migrate.go":      "the migrator runs in Phase 2 and is judged there (Step 2.2), before smoke and postdeploy",
	"schema.go":       "the schema and migrations' SQL: Phase 2's subject, as migrate.go",
	"faultmetrics.go": "the telemetry faults' switch (what GET /metrics shows while one is on): test apparatus, off in every deployment",
}

const (
	granterDir  = "fixtures/granter"
	servicesPkg = "./fixtures/granter/cmd/granter"
	equivFile   = "fixtures/mutation/equivalent.tsv"
	notesFile   = "fixtures/mutation/survivors.tsv"
	quickFile   = "fixtures/mutation/quick.txt"
	version     = "v2.0.0"
)

type config struct {
	root, work        string
	n, parallel, want int
	quick, list, keep bool
	dry               bool
	again, render     string
	note              string
	ids               string
	record            string
	min               float64
	timeout           time.Duration
}

func main() {
	var c config
	flag.IntVar(&c.n, "n", 80, "mutants to run: a fixed sample, every operator in turn (0: all of them)")
	flag.IntVar(&c.parallel, "parallel", max(1, runtime.NumCPU()/2+1), "mutants run at once")
	flag.BoolVar(&c.quick, "quick", false, "run the fixed sample of "+quickFile+" (make mutation QUICK=1); fail when one survives")
	flag.BoolVar(&c.list, "list", false, "list every mutant (id, where, change) and exit")
	flag.StringVar(&c.ids, "ids", "", "run these mutants (comma-separated ids)")
	flag.StringVar(&c.record, "record", "", "write the results into this Markdown file (MUTATION.md)")
	flag.Float64Var(&c.min, "min", 90, "fail when fewer than this percentage of the judged mutants are killed")
	flag.DurationVar(&c.timeout, "timeout", 3*time.Minute, "deadline of one mutant's smoke and postdeploy (a hang is killed by timeout)")
	flag.StringVar(&c.again, "again", "", "judge again the survivors of this results.json (a previous run's), keeping its other verdicts; with -record, the merged results are written")
	flag.StringVar(&c.render, "render", "", "run nothing: read this results.json, apply the equivalent list, print the score (and -record it)")
	flag.StringVar(&c.note, "note", "", "a paragraph for MUTATION.md's header (with -render: when and how that run was made)")
	flag.BoolVar(&c.dry, "dry-run", false, "compile the chosen mutants and list them; start nothing")
	flag.BoolVar(&c.keep, "keep", false, "keep the work folder (mutant files, logs)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, c)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, c config) int {
	var err error
	if c.root, err = moduleRoot(); err == nil {
		err = os.Chdir(c.root) // environments/ and the gates are found from the root
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		return 2
	}
	var skipped []string
	for f := range excluded {
		skipped = append(skipped, f)
	}
	files, err := mutation.Files(filepath.Join(c.root, granterDir), skipped)
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no Go file in %s", granterDir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		return 2
	}
	all, err := mutation.Generate(files)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		return 2
	}
	equiv, _, err := mutation.ReadList(filepath.Join(c.root, equivFile), true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation: equivalent mutants:", err)
		return 2
	}
	if c.list {
		for _, m := range all {
			mark := ""
			if why, ok := equiv[m.ID]; ok {
				mark = "  [equivalent: " + why + "]"
			}
			fmt.Printf("%-55s %-18s %s%s\n", m.ID, m.Where(), m.Change, mark)
		}
		fmt.Printf("%d mutants in %d files\n", len(all), len(files))
		return 0
	}

	var chosen []mutation.Mutant
	var results []mutation.Result
	if c.render != "" {
		prev, err := readResults(c.render)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutation:", err)
			return 2
		}
		for _, p := range prev {
			if why, ok := equiv[p.ID]; ok {
				p.Class, p.Why = mutation.Equivalent, why
			}
			results = append(results, p)
		}
		fmt.Printf("mutation: score %s (from %s)\n", mutation.Tally(results), c.render)
		if c.record != "" {
			if err := record(c, results, len(all), 0); err != nil {
				fmt.Fprintln(os.Stderr, "mutation:", err)
				return 2
			}
		}
		return 0
	}
	switch {
	case c.quick || c.ids != "" || c.again != "":
		var ids []string
		if c.again != "" {
			prev, err := readResults(c.again)
			if err != nil {
				fmt.Fprintln(os.Stderr, "mutation:", err)
				return 2
			}
			for _, p := range prev {
				switch {
				case equiv[p.ID] != "":
					// Listed equivalent since: recorded with its reason below.
				case p.Class == mutation.Survived || p.Class == mutation.Errored:
					ids = append(ids, p.ID)
				case p.Class != mutation.Equivalent:
					results = append(results, p)
				}
			}
			for _, m := range all {
				if why, ok := equiv[m.ID]; ok {
					results = append(results, mutation.Result{Mutant: m, Class: mutation.Equivalent, Why: why})
				}
			}
		} else if c.quick {
			if _, ids, err = mutation.ReadList(filepath.Join(c.root, quickFile), false); err != nil {
				fmt.Fprintln(os.Stderr, "mutation: quick sample:", err)
				return 2
			}
		} else {
			ids = strings.Split(c.ids, ",")
		}
		var missing []string
		chosen, missing = mutation.ByID(all, ids)
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "mutation: no such mutant (the code changed? `go run ./cmd/mutation -list`): %s\n", strings.Join(missing, ", "))
			return 2
		}
	default:
		n := c.n
		if n <= 0 {
			n = len(all)
		}
		// Every operator in turn; the ones that do not compile are
		// recorded and replaced by the next in line (compile, below).
		chosen = mutation.Sample(all, len(all), equiv)
		c.want = n
		// The equivalent mutants are recorded with their reason, not run.
		for _, m := range all {
			if why, ok := equiv[m.ID]; ok {
				results = append(results, mutation.Result{Mutant: m, Class: mutation.Equivalent, Why: why})
			}
		}
	}

	if c.work, err = os.MkdirTemp("", "runbook-mutation-"); err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		return 2
	}
	defer func() {
		if c.keep {
			fmt.Printf("mutation: work folder kept: %s\n", c.work)
			return
		}
		if err := os.RemoveAll(c.work); err != nil {
			fmt.Fprintf(os.Stderr, "mutation: removing %s: %v\n", c.work, err)
		}
	}()
	began := time.Now()
	fmt.Printf("mutation: %d mutants of %d generated from %d files of %s (%d listed equivalent); %d at once; work folder %s\n",
		len(chosen), len(all), len(files), granterDir, len(equiv), c.parallel, c.work)

	gates := filepath.Join(c.work, "runbook-local")
	r := &runner{c: c, gates: gates}
	chosen, failed, err := r.compile(ctx, chosen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
		return 2
	}
	results = append(results, failed...)
	fmt.Printf("mutation: %d mutants compile (%d discarded: they do not compile); %s elapsed\n", len(chosen), len(failed), time.Since(began).Round(time.Second))
	if c.dry {
		for _, m := range chosen {
			fmt.Printf("%-55s %-18s %s\n", m.ID, m.Where(), m.Change)
		}
		for _, f := range failed {
			fmt.Printf("does not compile: %s: %s\n", f.ID, f.Why)
		}
		return 0
	}
	if err := goBuild(ctx, c.root, "", gates, "./cmd/runbook"); err != nil {
		fmt.Fprintln(os.Stderr, "mutation: building the runbook (unchanged tree):", err)
		return 2
	}
	judged, ok := r.all(ctx, chosen, began)
	results = append(results, judged...)
	if !ok {
		return 2
	}
	s := mutation.Tally(results)
	fmt.Printf("\nmutation: score %s in %s\n", s, time.Since(began).Round(time.Second))
	for _, res := range results {
		if res.Class == mutation.Survived {
			fmt.Printf("  SURVIVED %s (%s: %s)\n", res.ID, res.Where(), res.Change)
		}
	}
	if !c.quick {
		dir := filepath.Join(c.root, "runs", "mutation-"+time.Now().UTC().Format("20060102-150405"))
		path := filepath.Join(dir, "results.json")
		b, err := json.MarshalIndent(results, "", "  ")
		if err == nil {
			if err = os.MkdirAll(dir, 0o755); err == nil {
				err = os.WriteFile(path, b, 0o644)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutation: results:", err)
			return 2
		}
		fmt.Printf("mutation: results in %s (-again %s judges its survivors again)\n", path, path)
	}
	if c.record != "" {
		if err := record(c, results, len(all), time.Since(began)); err != nil {
			fmt.Fprintln(os.Stderr, "mutation:", err)
			return 2
		}
		fmt.Printf("mutation: results written to %s\n", c.record)
	}
	switch {
	case s.Errored > 0:
		return 2
	case c.quick && s.Survived > 0:
		fmt.Fprintf(os.Stderr, "FAIL: %d mutant(s) of the quick sample survived the smoke flows and postdeploy: a check that killed them no longer does\n", s.Survived)
		return 1
	case c.quick && s.Killed != len(chosen):
		fmt.Fprintf(os.Stderr, "FAIL: %d of the %d sampled mutants were judged (the others: build failed or never started; see above)\n", s.Killed+s.Survived, len(chosen))
		return 1
	case !c.quick && s.Percent() < c.min:
		fmt.Fprintf(os.Stderr, "FAIL: %.1f%% of the judged mutants killed, want >= %.0f%%\n", s.Percent(), c.min)
		return 1
	}
	return 0
}

// runner runs mutants, c.parallel at once, each worker on its own bench.
type runner struct {
	c     config
	gates string
	mu    sync.Mutex
	done  int
}

// all runs the baseline then the mutants. ok is false when the baseline
// failed or the run was interrupted: no mutant is judged then.
func (r *runner) all(ctx context.Context, ms []mutation.Mutant, began time.Time) ([]mutation.Result, bool) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	total := len(ms) + 1
	jobs := make(chan int)
	out := make([]mutation.Result, len(ms))
	baselineDone := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < min(r.c.parallel, total); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := openBench(ctx, r.c.root)
			if err != nil {
				cancel(fmt.Errorf("bench %d: %w", w, err))
				return
			}
			defer func() {
				if err := b.close(); err != nil {
					fmt.Fprintf(os.Stderr, "mutation: bench %d: %v (run `make clean-containers`)\n", w, err)
				}
			}()
			fmt.Printf("mutation: bench %d ready in %s (PostgreSQL %s, listing site, AI provider, Prometheus %s)\n", w, b.p.StartupTime.Round(time.Second), b.p.DB(), b.prom.URL())
			for i := range jobs {
				if i < 0 {
					res := r.one(ctx, b, nil, "baseline")
					r.progress(total, began, "baseline (unchanged code)", res)
					if res.Class != mutation.Survived {
						cancel(fmt.Errorf("the unchanged services did not pass: %s", res.Why))
					}
					close(baselineDone)
					continue
				}
				m := ms[i]
				out[i] = r.one(ctx, b, &m, "")
				r.progress(total, began, m.ID, out[i])
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := -1; i < len(ms); i++ {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
			if i < 0 {
				// No mutant is judged before the unchanged code passed.
				select {
				case <-baselineDone:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "mutation: stopped, no mutant judged: %v\n", err)
		return nil, false
	}
	return out, true
}

func (r *runner) progress(total int, began time.Time, name string, res mutation.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	el := time.Since(began)
	eta := time.Duration(float64(el) / float64(r.done) * float64(total-r.done))
	fmt.Printf("[%d/%d] %s elapsed, ETA %s  %-8s %s (%s)  %s\n", r.done, total, el.Round(time.Second), eta.Round(time.Second),
		strings.ToUpper(string(res.Class)), name, res.Took.Round(time.Second), res.Why)
}

// dir is the mutant's work folder.
func (r *runner) dir(m mutation.Mutant) string {
	return filepath.Join(r.c.work, strings.NewReplacer(":", "_", "/", "_", ".", "_").Replace(m.ID))
}

// overlay writes the mutant's file and the -overlay file naming it.
func (r *runner) overlay(m mutation.Mutant) (string, error) {
	dir := r.dir(m)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	src, err := m.Source()
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, m.File)
	if err := os.WriteFile(file, src, 0o600); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": {m.Path(): file}})
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "overlay.json")
	return overlay, os.WriteFile(overlay, b, 0o600)
}

// compile keeps the mutants whose package compiles, in order, up to
// c.want of them (0: all): the others are discarded with the compiler's
// first error. Compiling one package costs about a second.
func (r *runner) compile(ctx context.Context, ms []mutation.Mutant) (keep []mutation.Mutant, failed []mutation.Result, err error) {
	for _, m := range ms {
		if r.c.want > 0 && len(keep) == r.c.want {
			break
		}
		overlay, err := r.overlay(m)
		if err != nil {
			return nil, nil, err
		}
		if err := goBuild(ctx, r.c.root, overlay, "", "./"+granterDir); err != nil {
			if ctx.Err() != nil {
				return nil, nil, context.Cause(ctx)
			}
			failed = append(failed, mutation.Result{Mutant: m, Class: mutation.BuildFailed, Why: firstLine(err.Error(), r.dir(m))})
			continue
		}
		keep = append(keep, m)
	}
	return keep, failed, nil
}

// one builds and judges one mutant (nil: the unchanged code) on bench b.
func (r *runner) one(ctx context.Context, b *bench, m *mutation.Mutant, name string) (res mutation.Result) {
	began := time.Now()
	if m != nil {
		res.Mutant = *m
	}
	defer func() { res.Took = time.Since(began) }()
	dir := filepath.Join(r.c.work, name)
	if m != nil {
		dir = r.dir(*m)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return errored(res, err)
	}
	overlay := ""
	if m != nil {
		var err error
		if overlay, err = r.overlay(*m); err != nil {
			return errored(res, err)
		}
	}
	bin := filepath.Join(dir, "granter")
	if err := goBuild(ctx, r.c.root, overlay, bin, servicesPkg); err != nil {
		if ctx.Err() != nil {
			return errored(res, context.Cause(ctx))
		}
		res.Class, res.Why = mutation.BuildFailed, firstLine(err.Error(), dir)
		return res
	}
	class, why := b.judge(ctx, r, dir, bin)
	if ctx.Err() != nil && class != mutation.Killed {
		return errored(res, context.Cause(ctx))
	}
	res.Class, res.Why = class, why
	return res
}

func errored(res mutation.Result, err error) mutation.Result {
	res.Class, res.Why = mutation.Errored, err.Error()
	return res
}

// testEnv is the environment of the children: the Makefile's settings for
// testcontainers without Ryuk, and no target given by the caller's shell.
func testEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RUNBOOK_LOCAL_TARGET=") || strings.HasPrefix(kv, "RUNBOOK_ENV_FILE=") || strings.HasPrefix(kv, "RUNBOOK_RUN_DIR=") {
			continue
		}
		env = append(env, kv)
	}
	for _, kv := range []string{"TESTCONTAINERS_RYUK_DISABLED=true", "TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1"} {
		k, _, _ := strings.Cut(kv, "=")
		if os.Getenv(k) == "" {
			env = append(env, kv)
		}
	}
	return env
}

func goBuild(ctx context.Context, root, overlay, out, pkg string) error {
	args := []string{"build", "-trimpath", "-ldflags=-s -w"}
	if out != "" {
		args = append(args, "-o", out)
	}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(b)))
	}
	return nil
}

// failure is the first lines of a gate's output that say what failed.
func failure(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var picked []string
	for _, l := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(l)
		if strings.Contains(t, "❌") || strings.Contains(t, "FAIL") || strings.Contains(t, "expected") || strings.Contains(t, "want ") {
			picked = append(picked, t)
			if len(picked) == 2 {
				break
			}
		}
	}
	if len(picked) == 0 {
		return tailFile(path, 2)
	}
	return strings.Join(picked, " / ")
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// firstLine is the compiler's first error, without the work folder.
func firstLine(s, dir string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, ".go:") {
			return strings.ReplaceAll(strings.TrimSpace(l), dir+string(os.PathSeparator), "")
		}
	}
	return strings.SplitN(s, "\n", 2)[0]
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the module (no go.mod above the working directory)")
		}
		dir = parent
	}
}

// readResults reads a previous run's results.json.
func readResults(path string) ([]mutation.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []mutation.Result
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}
