package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown: the verdict first, then
// what blocks it, what failed first, the next command, the checklist,
// the timeline, the phases and the gates.
func WriteMarkdown(w io.Writer, v Verdict) error {
	vw := newView(v)
	b := &strings.Builder{}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }

	p("# %s\n\n", md(vw.Title))
	mark := "❌"
	if v.Passed() {
		mark = "✅"
	}
	p("## %s %s\n\n", mark, v.Headline())
	for _, why := range v.Rehearsal {
		p("REHEARSAL: %s.\n\n", md(why))
	}
	p("%s\n\n", md(strings.Join(vw.Meta, " · ")))
	p("Exit code **%d** (%s).\n\n", vw.ExitCode, vw.ExitName)

	if len(vw.Blocking) > 0 {
		p("### What blocks the go-live\n\n")
		for _, c := range vw.Blocking {
			p("%d. %s **%s** — %s\n", c.N, c.State.Mark(), md(c.Text), c.State)
			for _, e := range c.Evidence {
				if e.State == Met {
					continue
				}
				p("   - %s %s: %s\n", e.State.Mark(), md(e.Source), md(e.Text))
			}
		}
		p("\n")
	}
	for _, r := range v.Reasons {
		p("- %s\n", md(r))
	}
	if len(v.Reasons) > 0 {
		p("\n")
	}
	if f := vw.First; f != nil {
		p("### What failed first\n\n")
		p("**%s** at %s UTC (%s, exit code %d): %s\n\n", md(f.Where), f.When.UTC().Format("15:04:05"), vw.FirstClass, f.Class, md(f.Message))
		if f.Manual != "" {
			p("The runbook's manual command for this step: `%s`\n\n", code(f.Manual))
		}
	}
	p("### Next\n\n")
	if v.Next.Command != "" {
		p("```\n%s\n```\n\n", v.Next.Command)
	}
	p("%s\n\n", md(v.Next.Why))

	p("## Success criteria\n\n| # | Criterion | Result | Evidence |\n|---|---|---|---|\n")
	for _, c := range v.Criteria {
		var ev []string
		for i, e := range c.Evidence {
			if i == 4 {
				ev = append(ev, fmt.Sprintf("… %d more, all met", len(c.Evidence)-4))
				break
			}
			ev = append(ev, fmt.Sprintf("%s %s: %s", e.State.Mark(), e.Source, e.Text))
		}
		p("| %d | %s | %s %s | %s |\n", c.N, cell(c.Text), c.State.Mark(), c.State, cell(strings.Join(ev, "\n")))
	}
	p("\nIf ALL above are true → GO-LIVE APPROVED. Not evaluated is never counted as met.\n\n")

	p("## Timeline: planned vs actual\n\n| Phase | Planned | Actual | Took | Status |\n|---|---|---|---|---|\n")
	for _, r := range v.Timeline {
		planned := r.PlannedClock() + " (" + took(r.PlannedDuration()) + ")"
		if r.Floating {
			planned = "estimated " + took(r.PlannedDuration())
		}
		actual, tk, status := "—", "—", r.Status
		if r.Ran {
			actual, tk = r.ActualClock(), took(r.ActualDuration())
			if r.Overrun {
				status += ", **overran by " + took(r.ActualDuration()-r.PlannedDuration()) + "**"
			}
			if r.Late > 0 {
				status += ", ended " + took(r.Late) + " late"
			}
		}
		p("| %s | %s | %s | %s | %s |\n", cell(r.Title), planned, actual, tk, status)
	}
	p("\nPlanned windows are the runbook's TIMELINE SUMMARY; the first phase that ran is aligned with its planned start.\n\n")

	if len(vw.Phases) > 0 {
		p("## Phases (journal)\n\n")
		for _, ph := range vw.Phases {
			p("### %s\n\n| Step | Action | Status | Took | Evidence | Manual command |\n|---|---|---|---|---|---|\n", md(ph.Label))
			for _, s := range ph.Steps {
				var ev []string
				if s.Error != "" {
					ev = append(ev, "error: "+s.Error)
				}
				for _, d := range s.Data {
					ev = append(ev, d.K+": "+d.V)
				}
				man := ""
				if s.Manual != "" {
					man = "`" + code(s.Manual) + "`"
				}
				p("| %s | %s | %s | %s | %s | %s |\n", cell(s.Step), cell(s.Action), statusMark(s.Status), s.Took, cell(strings.Join(ev, "\n")), man)
			}
			p("\n")
		}
	}
	if len(vw.Gates) > 0 {
		p("## Gates (go test)\n\n")
		for _, g := range vw.Gates {
			p("### %s: %d passed, %d failed, %d skipped", g.Name, g.Passed, g.Failed, g.Skipped)
			if g.Unfinished > 0 {
				p(", %d did not finish", g.Unfinished)
			}
			p("\n\nFiles: `%s`", g.File)
			if g.JUnit != "" {
				p(", `%s`", g.JUnit)
			}
			p("\n\n")
			if g.PackageFailure != "" {
				p("❌ %s\n\n", md(g.PackageFailure))
			}
			p("| Test | Result | Took | Evidence |\n|---|---|---|---|\n")
			for _, t := range g.Tests {
				ev := t.Message
				if ev == "" {
					ev = strings.Join(lastN(t.Lines, 2), "\n")
				}
				p("| %s%s | %s | %s | %s |\n", strings.Repeat("&nbsp;&nbsp;", t.Depth), cell(t.Name), statusMark(t.Status), t.Elapsed, cell(ev))
			}
			p("\n")
		}
	}
	if len(v.Run.Warnings) > 0 {
		p("## Warnings\n\n")
		for _, wn := range v.Run.Warnings {
			p("- %s\n", md(wn))
		}
		p("\n")
	}
	p("---\nGenerated %s from `%s` by `runbook report`.\n", vw.Generated, md(v.Run.Dir))
	_, err := io.WriteString(w, b.String())
	return err
}

func lastN(ls []string, n int) []string {
	if len(ls) > n {
		return ls[len(ls)-n:]
	}
	return ls
}

func statusMark(s string) string {
	switch s {
	case "ok", "passed":
		return "✅ " + s
	case "failed":
		return "❌ " + s
	case "skipped", "dry-run", "no result", "started":
		return "⚠ " + s
	}
	return s
}

// md escapes text for Markdown outside tables: no HTML, no emphasis.
// Underscores are left alone: GitHub does not read intra-word ones as
// emphasis, and test names keep theirs.
func md(s string) string {
	r := strings.NewReplacer("<", "&lt;", ">", "&gt;", "*", "\\*", "`", "\\`", "\n", " ")
	return r.Replace(s)
}

// cell escapes text for a table cell: pipes escaped, lines joined by <br>.
func cell(s string) string {
	parts := strings.Split(strings.TrimSpace(s), "\n")
	for i := range parts {
		parts[i] = md(parts[i])
	}
	return strings.ReplaceAll(strings.Join(parts, "<br>"), "|", "\\|")
}

// code makes text safe inside an inline code span.
func code(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "`", "'"), "\n", " ") }
