package smoke

import (
	"context"
	"sync"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/auth"
	"github.com/granter/runbook/smoke/health"
	"github.com/granter/runbook/smoke/ia"
	"github.com/granter/runbook/smoke/scraper"
	"github.com/granter/runbook/smoke/search"
)

// Options are what some targets offer beyond their endpoints.
type Options struct {
	// AIProviderOutage, when the target has a way to make its AI provider
	// fail, lets the IA flow check the fallback in auto mode. Nil: that step
	// is skipped (never counted as passed).
	AIProviderOutage ia.Outage
}

// Flows returns the five flows of Step 4.1 for the target, in the
// runbook's order (phase4.Flows). Each is new: run it once. A flow of
// phase4.Flows that this package does not build, or the reverse, is a bug:
// it panics.
func Flows(tgt *target.Target, o Options) []flow.Flow {
	built := map[string]flow.Flow{}
	for _, f := range []flow.Flow{
		auth.New(tgt),
		search.New(tgt),
		scraper.New(tgt),
		ia.New(tgt, ia.WithProviderOutage(o.AIProviderOutage)),
		health.New(tgt),
	} {
		built[f.Name] = f
	}
	out := make([]flow.Flow, 0, len(phase4.Flows))
	for _, want := range phase4.Flows {
		f, ok := built[want.Name]
		if !ok {
			panic("smoke: phase4 flow " + want.Name + " is not built by smoke.Flows")
		}
		out = append(out, f)
		delete(built, want.Name)
	}
	for name := range built {
		panic("smoke: flow " + name + " is not one of phase4.Flows")
	}
	return out
}

// RunAll runs the five flows at once (they are independent) and returns
// their results in the runbook's order. Every flow's cleanup has run when
// it returns.
func RunAll(ctx context.Context, tgt *target.Target, o Options) []flow.Result {
	flows := Flows(tgt, o)
	results := make([]flow.Result, len(flows))
	var wg sync.WaitGroup
	for i, f := range flows {
		wg.Go(func() { results[i] = flow.Run(ctx, f) })
	}
	wg.Wait()
	return results
}
