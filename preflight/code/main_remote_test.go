//go:build staging || prod

package code_test

import "github.com/granter/runbook/internal/suite"

var setup []suite.Option
