package loadbalancer_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/preflight/loadbalancer"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt, setup...)) }

// TestLoadBalancerCheck is checklist item 8 against the target.
func TestLoadBalancerCheck(t *testing.T) { flow.RunT(t, loadbalancer.New(tgt)) }
