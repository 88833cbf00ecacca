package mutation

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Class is what became of a mutant.
type Class string

const (
	// Killed: a smoke flow or a postdeploy check failed (or the checks
	// timed out) against the mutant.
	Killed Class = "killed"
	// Survived: the five smoke flows and every postdeploy check passed.
	Survived Class = "survived"
	// Equivalent: listed with a written reason; not run, not counted.
	Equivalent Class = "equivalent"
	// BuildFailed: the mutant does not compile; discarded, not counted.
	BuildFailed Class = "build-failed"
	// NoStart: the platform with the mutant never became ready (a rollout
	// would stop it before Step 4); discarded, not counted.
	NoStart Class = "no-start"
	// Errored: the run itself failed (the runbook refused its
	// configuration); not counted, and the run fails.
	Errored Class = "error"
)

// Result is one mutant's outcome.
type Result struct {
	Mutant
	Class Class
	// Why: the failed gate and its first failure (killed), the compiler's
	// first error (build-failed), the reason (equivalent).
	Why  string
	Took time.Duration
}

// Score counts the classes.
type Score struct {
	Killed, Survived, Equivalent, Discarded, Errored int
}

// Tally counts results.
func Tally(rs []Result) Score {
	var s Score
	for _, r := range rs {
		switch r.Class {
		case Killed:
			s.Killed++
		case Survived:
			s.Survived++
		case Equivalent:
			s.Equivalent++
		case Errored:
			s.Errored++
		default:
			s.Discarded++
		}
	}
	return s
}

// Percent is killed / (killed + survived), 0 when nothing was judged.
func (s Score) Percent() float64 {
	if s.Killed+s.Survived == 0 {
		return 0
	}
	return 100 * float64(s.Killed) / float64(s.Killed+s.Survived)
}

func (s Score) String() string {
	return fmt.Sprintf("%.1f%% killed (%d killed, %d survived of %d judged; %d equivalent; %d discarded: build failed or never started; %d errors)",
		s.Percent(), s.Killed, s.Survived, s.Killed+s.Survived, s.Equivalent, s.Discarded, s.Errored)
}

// Markdown renders the results for MUTATION.md: the score, then every
// survivor, every equivalent mutant with its reason, the discarded ones
// with theirs, and the killed ones with the check that killed them.
func Markdown(rs []Result, header string) string {
	var b strings.Builder
	s := Tally(rs)
	b.WriteString(header)
	fmt.Fprintf(&b, "\n**Score: %s**\n", s)
	sorted := append([]Result(nil), rs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	section := func(title string, c Class, col string) {
		var rows []Result
		for _, r := range sorted {
			if r.Class == c {
				rows = append(rows, r)
			}
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n", title, len(rows))
		if len(rows) == 0 {
			b.WriteString("None.\n")
			return
		}
		fmt.Fprintf(&b, "| mutant | where | change | %s |\n|---|---|---|---|\n", col)
		for _, r := range rows {
			fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", r.ID, r.Where(), cell(r.Change), cell(r.Why))
		}
	}
	section("Survivors", Survived, "what it changes, and what would see it")
	section("Equivalent", Equivalent, "why no user can tell it apart")
	section("Killed", Killed, "killed by")
	section("Discarded: does not compile", BuildFailed, "compiler")
	section("Discarded: the platform never became ready", NoStart, "start-up")
	section("Errors of the run", Errored, "error")
	return b.String()
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "`", "'")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 220 {
		s = s[:217] + "..."
	}
	return s
}
