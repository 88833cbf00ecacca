//go:build !staging && !prod

package code_test

import (
	"github.com/granter/runbook/fixtures/preflightlab"
	"github.com/granter/runbook/internal/suite"
)

// Item 4 reads a git checkout, not the platform: locally none is started,
// and the checkout is one made for the test.
var setup = []suite.Option{suite.WithoutPlatform(), suite.WithLocalSetup(preflightlab.Checkout())}
