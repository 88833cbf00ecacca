//go:build staging || prod

package code_test

import "github.com/granter/runbook/fixtures/harness"

var setup []harness.Option
