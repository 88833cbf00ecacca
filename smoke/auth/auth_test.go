package auth_test

import (
	"os"
	"testing"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/suite"
	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/smoke/auth"
)

var tgt *target.Target

func TestMain(m *testing.M) { os.Exit(suite.Main(m, &tgt)) }

// TestAuth is the auth flow of Step 4.1: TestAuth/register, TestAuth/login, ...
func TestAuth(t *testing.T) { flow.RunT(t, auth.New(tgt)) }
