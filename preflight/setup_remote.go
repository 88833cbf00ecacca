//go:build staging || prod

package preflight

import "github.com/granter/runbook/internal/suite"

// LocalSetups is nothing: staging and prod are checked as they are.
func LocalSetups() []suite.LocalSetup { return nil }
