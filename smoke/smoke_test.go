package smoke_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/auth"
	"github.com/granter/runbook/smoke/health"
	"github.com/granter/runbook/smoke/ia"
	"github.com/granter/runbook/smoke/scraper"
	"github.com/granter/runbook/smoke/search"
)

var tgt *target.Target

// The five flows wait on the network: run them all at once, whatever
// GOMAXPROCS is (an explicit -parallel wins).
func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, suite.Parallel(5))) }

// The five flows of Step 4.1, run at once: they touch different data.

func TestAuth(t *testing.T) {
	t.Parallel()
	flow.RunT(t, auth.New(tgt))
}

func TestSearch(t *testing.T) {
	t.Parallel()
	flow.RunT(t, search.New(tgt))
}

func TestScraper(t *testing.T) {
	t.Parallel()
	flow.RunT(t, scraper.New(tgt))
}

func TestIA(t *testing.T) {
	t.Parallel()
	flow.RunT(t, ia.New(tgt, ia.WithProviderOutage(suite.AIProviderOutage)))
}

func TestHealth(t *testing.T) {
	t.Parallel()
	flow.RunT(t, health.New(tgt))
}
