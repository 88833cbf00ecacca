//go:build staging || prod

package monitoring_test

import "github.com/granter/runbook/internal/suite"

// setup is nothing: staging and prod are checked as they are.
var setup []suite.Option
