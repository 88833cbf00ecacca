package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/journal"
	"github.com/granter/runbook/internal/phase4"
)

// State is a criterion's (or one piece of evidence's) outcome. The zero
// value is NotEvaluated: nothing is met by default.
type State int

// States.
const (
	NotEvaluated State = iota
	NotMet
	Met
)

func (s State) String() string {
	switch s {
	case Met:
		return "MET"
	case NotMet:
		return "NOT MET"
	}
	return "NOT EVALUATED"
}

// Mark is the state's symbol: ✅, ❌ or ⚠.
func (s State) Mark() string {
	switch s {
	case Met:
		return "✅"
	case NotMet:
		return "❌"
	}
	return "⚠"
}

// Evidence is one thing seen, where it was seen, and what it says.
type Evidence struct {
	State  State
	Source string // "journal phase3 step 3.2", "smoke: TestAuth/login"
	Text   string
}

// Criterion is one line of SUCCESS CRITERIA with its outcome.
type Criterion struct {
	N        int    // 1..11, the runbook's order
	ID       string // deployed, migrations, ...
	Text     string // the runbook's words
	State    State
	Summary  string // one line: why this state
	Evidence []Evidence
	Class    int // exitcode class when NOT MET
}

// Criteria lists the runbook's success criteria in its order.
var Criteria = []struct {
	ID, Text string
	Class    int
}{
	{"deployed", "All services deployed without errors", exitcode.Deploy},
	{"migrations", "Database migrations completed", exitcode.Deploy},
	{"health", "All health checks passing", exitcode.Smoke},
	{"smoke", "All 5 smoke tests passing", exitcode.Smoke},
	{"error_rate", "Error rate < 0.1%", exitcode.SLO},
	{"alerts", "No critical alerts triggered", exitcode.SLO},
	{"auth", "Users can register/login", exitcode.Smoke},
	{"search", "Users can search grants", exitcode.Smoke},
	{"endpoints", "All API endpoints responding", exitcode.Smoke},
	{"sql", "No SQL errors in logs", exitcode.SLO},
	{"stable", "Monitoring shows stable metrics", exitcode.SLO},
}

// ExpectedMigrations are the runbook's Phase 2 migrations, used when the
// journal does not list the expected ones.
var ExpectedMigrations = []string{"20260127000050", "20260127000100", "20260127000200", "20260127000300", "20260127000400", "20260128001000"}

// DefaultErrorRateThreshold is the runbook's "Error rate < 0.1%".
const DefaultErrorRateThreshold = 0.001

// maxEvidence bounds one evidence line; the full text is in the gate files.
const maxEvidence = 400

// acc collects a criterion's evidence.
type acc struct{ c *Criterion }

func (a acc) add(s State, source, format string, args ...any) {
	a.c.Evidence = append(a.c.Evidence, Evidence{State: s, Source: source, Text: clip(fmt.Sprintf(format, args...), maxEvidence)})
}

// finish sets the state: any evidence NOT MET makes the criterion NOT MET;
// else any NOT EVALUATED evidence, or none at all, NOT EVALUATED; else MET.
// missing says what would have been evidence.
func (a acc) finish(missing string) {
	c := a.c
	var bad, unknown *Evidence
	for i := range c.Evidence {
		e := &c.Evidence[i]
		switch {
		case e.State == NotMet && bad == nil:
			bad = e
		case e.State == NotEvaluated && unknown == nil:
			unknown = e
		}
	}
	switch {
	case bad != nil:
		c.State, c.Summary = NotMet, bad.Source+": "+bad.Text
	case len(c.Evidence) == 0:
		c.State, c.Summary = NotEvaluated, "no evidence: "+missing
		c.Evidence = []Evidence{{State: NotEvaluated, Source: "missing", Text: "no evidence: " + missing}}
	case unknown != nil:
		c.State, c.Summary = NotEvaluated, unknown.Source+": "+unknown.Text
	default:
		c.State = Met
		c.Summary = fmt.Sprintf("%d piece(s) of evidence, all good", len(c.Evidence))
		for _, e := range c.Evidence {
			// A step the target's file declares not applicable is shown
			// in the summary itself, so that no reader takes it for passed.
			if i := strings.Index(e.Text, flow.NotApplicableMark); i >= 0 {
				c.Summary += "; " + e.Source + ": " + e.Text[i:]
			}
		}
	}
	// What is wrong first, then what is unknown, then what is fine.
	rank := map[State]int{NotMet: 0, NotEvaluated: 1, Met: 2}
	sort.SliceStable(c.Evidence, func(i, j int) bool { return rank[c.Evidence[i].State] < rank[c.Evidence[j].State] })
}

// Evaluate judges each success criterion from the run's evidence and gives
// the verdict.
func Evaluate(r *Run) Verdict {
	v := Verdict{Run: r}
	for i, def := range Criteria {
		c := Criterion{N: i + 1, ID: def.ID, Text: def.Text, Class: def.Class}
		a := acc{&c}
		switch def.ID {
		case "deployed":
			evalDeployed(a, r)
		case "migrations":
			evalMigrations(a, r)
		case "health":
			evalHealth(a, r)
		case "smoke":
			evalSmoke(a, r)
		case "error_rate":
			evalErrorRate(a, r)
		case "alerts":
			evalCount(a, r, journal.KeyAlertsCritical, journal.KeyAlertsCriticalNames, journal.KeyAlertsQuery, "critical alerts", []string{phase4.NoCriticalAlerts.Test},
				"alerts.critical in the journal (phase4, monitor) or postdeploy TestNoCriticalAlerts")
		case "auth":
			evalAuth(a, r)
		case "search":
			if !testEvidence(a, r, "smoke", phase4.Search.Test, true) {
				a.finish("smoke TestSearch (smoke.json)")
			} else {
				a.finish("")
			}
		case "endpoints":
			evalEndpoints(a, r)
		case "sql":
			evalCount(a, r, journal.KeySQLErrors, journal.KeySQLErrorsSample, journal.KeyLogsQuery, "SQL errors in the logs", []string{phase4.NoSQLErrors.Test},
				"sql.errors in the journal (phase4, monitor) or postdeploy TestNoSQLErrors")
		case "stable":
			evalStable(a, r)
		}
		v.Criteria = append(v.Criteria, c)
	}
	v.finish()
	return v
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
