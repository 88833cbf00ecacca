package rollbackprep

import (
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/kube"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	ScriptsPrepared   = "Rollback scripts prepared"
	PreviousVersion   = "Previous version identified"
	TestedOnStaging   = "Rollback tested (on staging)"
	EstimatedTime     = "Estimated rollback time: 15 minutes"
	itemNumber        = 6
	defaultSmokeGuess = 5 * time.Minute
)

// KubeTimeout bounds the Kubernetes reads of one sub-item.
const KubeTimeout = 30 * time.Second

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	runDir string
	now    func() time.Time
}

// WithRunDir is the run folder whose journal the dry run reads (make
// preflight's RUNBOOK_RUN_DIR). Default: none, the dry run plans from the
// current state.
func WithRunDir(dir string) Option { return func(c *config) { c.runDir = dir } }

// WithClock replaces time.Now for the age of the drill record.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// New returns checklist item 6 for tgt.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	it := &item{tgt: tgt, c: c}
	return checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		ScriptsPrepared: it.scriptsPrepared,
		PreviousVersion: it.previousVersion,
		TestedOnStaging: it.testedOnStaging,
		EstimatedTime:   it.estimate,
	})
}

type item struct {
	tgt  *target.Target
	c    config
	kube kube.Lazy // the target's cluster, connected once
}
