// Command runbook-report is `runbook report` (cmd/runbook) on its own, a
// thin wrapper kept for the CI example (.github/workflows/deploy.yml),
// whose report jobs need no target: the go-live report of a run folder (SUCCESS CRITERIA, the
// timeline, what failed first, the next command) in Markdown and HTML, and
// an exit code per failure class.
//
//	make report RUN=runs/20260303-140000-prod   (bin/runbook-<env> report RUN)
//	go build -o bin/runbook-report ./cmd/runbook-report
//	bin/runbook-report runs/20260303-140000-prod
//	bin/runbook-report junit runs/20260303-140000-prod
//
// Run the built binary where the exit code matters (CI): `go run` turns
// every non-zero exit into 1. See internal/report for the run folder it
// reads and README "Exit codes" for the codes.
package main

import (
	"os"

	"github.com/granter/runbook/internal/report"
)

func main() {
	os.Exit(report.Main(os.Args[1:], os.Stdout, os.Stderr))
}
