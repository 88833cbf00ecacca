//go:build staging || prod

package envcheck_test

import "github.com/granter/runbook/fixtures/harness"

var setup []harness.Option
