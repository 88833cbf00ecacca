//go:build staging || prod

package monitoring_test

import "github.com/granter/runbook/fixtures/harness"

// setup is nothing: staging and prod are checked as they are.
var setup []harness.Option
