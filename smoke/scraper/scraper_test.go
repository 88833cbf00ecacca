package scraper_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/scraper"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt)) }

// TestScraper is the scraper flow of Step 4.1: TestScraper/read_listing, TestScraper/start_job, ...
func TestScraper(t *testing.T) { flow.RunT(t, scraper.New(tgt)) }
