package main

import (
	"context"
	"io"

	"github.com/granter/runbook/internal/report"
	"github.com/granter/runbook/internal/target"
)

func init() {
	register(Command{Name: "report", Order: 30, RunArg: true, Summary: "the go-live report of a run folder: report.md, report.html, the verdict (report -h)",
		Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			// The target's own secrets are redacted too when it loads; a
			// report of a run folder needs no target otherwise.
			var redact func(string) string
			if tgt, err := target.Load(); err == nil {
				redact = tgt.Redact
			}
			return report.MainWith(args, stdout, stderr, redact)
		}})
}
