//go:build staging || prod

package envcheck_test

import "github.com/granter/runbook/internal/suite"

var setup []suite.Option
