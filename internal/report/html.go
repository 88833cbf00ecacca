package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed report.html.tmpl
var htmlTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"utc":        func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"took":       took,
	"statusMark": statusMark,
	"sym": func(s State) string {
		switch s {
		case Met:
			return "✓"
		case NotMet:
			return "✗"
		}
		return "⚠"
	},
	"symClass": func(s State) string {
		switch s {
		case Met:
			return "s-ok"
		case NotMet:
			return "s-failed"
		}
		return "s-warn"
	},
	// statusSym marks a step or test status with symbols every font has
	// (the emoji of the Markdown are missing from many).
	"statusSym": func(status string) string {
		switch status {
		case "ok", "passed":
			return "✓ " + status
		case "failed":
			return "✗ " + status
		}
		return "⚠ " + status
	},
	"plus":  func(n, x int) int { return x + n },
	"minus": func(n, x int) int { return x - n },
	"stateClass": func(s State) string {
		switch s {
		case Met:
			return "Met"
		case NotMet:
			return "NotMet"
		}
		return "NotEvaluated"
	},
	"barColor": func(class string) string {
		switch class {
		case "ok":
			return "#1b7f3b"
		case "skipped":
			return "#b26a00"
		}
		return "#c62828"
	},
	"noteColor": func(class string) string {
		switch class {
		case "ok":
			return "#1b7f3b"
		case "":
			return "#8a96a6"
		case "skipped":
			return "#b26a00"
		}
		return "#c62828"
	},
	"phaseClass": func(status string, overrun bool) string {
		switch {
		case status == "failed" || overrun:
			return "s-failed"
		case status == "ok" || status == "passed":
			return "s-ok"
		}
		return "s-warn"
	},
}).Parse(htmlTemplate))

// WriteHTML writes the report as one self-contained HTML page: inline CSS,
// an inline SVG timeline, no script, no external asset.
func WriteHTML(w io.Writer, v Verdict) error {
	if err := page.Execute(w, newView(v)); err != nil {
		return fmt.Errorf("report: render HTML: %w", err)
	}
	return nil
}
