package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/mutation"
)

// record writes MUTATION.md: how the mutants were made and run, on which
// machine and when, then the results.
func record(c config, results []mutation.Result, generated int, took time.Duration) error {
	var files []string
	for f, why := range excluded {
		files = append(files, fmt.Sprintf("- `%s`: %s", f, why))
	}
	sort.Strings(files)
	var b strings.Builder
	fmt.Fprintf(&b, `# Mutation testing of the reference services

Written by `+"`make mutation`"+` (`+"`go run ./cmd/mutation -record MUTATION.md`"+`) on %s UTC, on %s,
in %s%s. %d mutants of %d generated from `+"`%s`"+` (every operator in turn, a fixed sample;
`+"`go run ./cmd/mutation -list`"+` lists them all), %d at once.

Each mutant is one change to one file, compiled into the services' binary with `+"`go build -overlay`"+`
(the tree is never changed) and run as the three services at %s on a bench (PostgreSQL with the seed
and the migrations, reset after each mutant; the listing site; the AI provider; Prometheus scraping the
mutant every second); then `+"`runbook smoke`"+` (built from the unchanged tree) and the postdeploy checks
that ask the services and Prometheus (Steps 4.3 health, 4.4 spot checks, 4.5 the telemetry canaries, the
error rate and the alerts) ran against it. Killed: a gate failed. Survived: both passed. The unchanged
services ran first and passed. Step 4.2 (logs, read through the cluster) was not run per mutant
(README, Known gaps).%s
Equivalent mutants are listed in `+"`%s`"+` with the reason no user can tell them apart; they are
not run and not counted. Not mutated:

%s
`, time.Now().UTC().Format("2006-01-02 15:04"), machine(), took.Round(time.Second), renderNote(c), len(results)-mutation.Tally(results).Equivalent,
		generated, granterDir, c.parallel, version, againNote(c), equivFile, strings.Join(files, "\n"))
	if c.note != "" {
		b.WriteString("\n" + c.note + "\n")
	}
	notes, _, err := mutation.ReadList(filepath.Join(c.root, notesFile), false)
	if err != nil {
		return fmt.Errorf("survivors' analysis: %w", err)
	}
	shown := make([]mutation.Result, len(results))
	for i, r := range results {
		if r.Class == mutation.Survived {
			r.Why = "not analysed yet (" + notesFile + ")"
			if n := notes[r.ID]; n != "" {
				r.Why = n
			}
		}
		shown[i] = r
	}
	return os.WriteFile(c.record, []byte(mutation.Markdown(shown, b.String())), 0o644)
}

// machine says what ran it: CPUs, model, memory, the load when it ended.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ":")
				model = strings.TrimSpace(model)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			var kb int
			fmt.Sscan(f[1], &kb)
			mem = fmt.Sprintf(", %d GiB", (kb+(1<<19))>>20)
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load average " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%d CPUs (%s)%s%s, %s/%s", runtime.NumCPU(), model, mem, load, runtime.GOOS, runtime.GOARCH)
}

func againNote(c config) string {
	if c.again == "" {
		return ""
	}
	return "\n\nThis run judged again the survivors of an earlier run (`-again`), after checks were strengthened;\nthe other verdicts are that run's."
}

func renderNote(c config) string {
	if c.render == "" {
		return ""
	}
	return " (rendered from the results of an earlier run, " + filepath.Base(c.render) + ", with the equivalent list and the survivors' analysis of now; see below)"
}
