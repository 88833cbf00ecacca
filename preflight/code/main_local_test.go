//go:build !staging && !prod

package code_test

import (
	"github.com/granter/runbook/fixtures/harness"
	"github.com/granter/runbook/fixtures/preflightlab"
)

// Item 4 reads a git checkout, not the platform: locally none is started,
// and the checkout is one made for the test.
var setup = []harness.Option{harness.WithoutPlatform(), harness.WithLocalSetup(preflightlab.Checkout())}
