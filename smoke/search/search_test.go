package search_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/search"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt)) }

// TestSearch is the search flow of Step 4.1: TestSearch/query, TestSearch/filter_category, ...
func TestSearch(t *testing.T) { flow.RunT(t, search.New(tgt)) }
